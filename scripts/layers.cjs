/**
 * dependency-cruiser's rules for src/ (`npm run lint:layers`, part of
 * `npm run lint`): an import between layers that scripts/layer-table.cjs does
 * not allow, a circular import between files, an unresolvable import, or a
 * file in a folder with no row in the table fails the lint. The table itself
 * refuses to load when an edit makes it cyclic.
 */
'use strict';

const { allowed } = require('./layer-table.cjs');

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The files of a layer: its folder and subfolders, except subfolders that are layers of their own. */
function filesOf(layer) {
  if (layer === '.') return '^src/[^/]+$';
  const own = Object.keys(allowed)
    .filter((other) => other.startsWith(`${layer}/`))
    .map((other) => escapeRegExp(other.slice(layer.length + 1)));
  return `^src/${escapeRegExp(layer)}/${own.length ? `(?!(?:${own.join('|')})/)` : ''}`;
}

const layerRules = Object.entries(allowed).map(([layer, deps]) => ({
  name: `layer:${layer}`,
  comment: `src/${layer === '.' ? '' : `${layer}/`} may import only ${deps.length ? deps.join(', ') : 'nothing else in src'}`,
  severity: 'error',
  from: { path: filesOf(layer) },
  to: { path: '^src/', pathNot: [filesOf(layer), ...deps.map(filesOf)] },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'files import each other in a circle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true, dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-unlisted-layer',
      comment: 'a file in a folder that has no row in the layer table',
      severity: 'error',
      from: { path: '^src/', pathNot: Object.keys(allowed).map(filesOf) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^src/http/console/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js'],
    },
  },
};
