/**
 * Every ```ts block of README.md and docs/*.md compiles under the project's
 * strict settings, importing 'sluice' as a user would (mapped to src/index.ts).
 * A block that is deliberately partial is fenced ```ts no-compile.
 *
 * One tsc run compiles them all, together with a canary: the README demo as it
 * was before issue 19 (`r.value.toString()` on a `Buffer | null`), which must
 * fail with TS18047 — proof that this check can fail.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const outDir = path.join(root, 'test/.build/snippets');

interface Snippet {
  /** e.g. docs/client-api.md:42 (the line of the opening fence). */
  where: string;
  code: string;
}

/** The ```ts blocks of a markdown file, without those marked no-compile. */
function tsBlocks(file: string, text: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(\s+.*)?$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith('```'); i++) body.push(lines[i] ?? '');
    if ((open[2] ?? '').includes('no-compile')) continue;
    out.push({ where: `${file}:${start + 1}`, code: body.join('\n') });
  }
  return out;
}

function markdownFiles(): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

const canary = `import { Sluice } from 'sluice';
const sluice = new Sluice({ brokers: '127.0.0.1:9092', clientId: 'demo' });
const consumer = sluice.consumer({ autoOffsetReset: 'smallest' });
consumer.assign([{ topic: 'orders', partition: 0, offset: 0 }]);
console.log((await consumer.poll({ maxWaitMs: 1000 })).map((r) => r.value.toString()));
`;

describe('documentation snippets', () => {
  it('finds ts blocks and skips the ones marked no-compile', () => {
    const blocks = tsBlocks('x.md', 'a\n```ts\nconst a = 1;\n```\n```ts no-compile\nbroken(\n```\n```js\nx\n```\n');
    expect(blocks).toEqual([{ where: 'x.md:2', code: 'const a = 1;' }]);
  });

  it('every ```ts block of README.md and docs/*.md compiles with tsc --strict', async () => {
    const snippets = markdownFiles().flatMap((f) => tsBlocks(f, readFileSync(path.join(root, f), 'utf8')));
    expect(snippets.length).toBeGreaterThanOrEqual(5);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const names = new Map<string, string>();
    snippets.forEach((s, i) => {
      const name = `snippet-${i}.ts`;
      names.set(name, s.where);
      // a module of its own (top-level await, no clashes between blocks)
      writeFileSync(path.join(outDir, name), `${s.code}\nexport {};\n`);
    });
    writeFileSync(path.join(outDir, 'canary.ts'), `${canary}\nexport {};\n`);
    writeFileSync(path.join(outDir, 'package.json'), '{ "type": "module" }\n');
    const project = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: Record<string, unknown>;
    };
    const { outDir: _o, rootDir: _r, declaration: _d, sourceMap: _s, ...options } = project.compilerOptions;
    writeFileSync(
      path.join(outDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...options,
          strict: true,
          noEmit: true,
          typeRoots: [path.join(root, 'node_modules/@types')],
          paths: { sluice: [path.join(root, 'src/index.ts')] },
        },
        include: ['*.ts'],
      }),
    );
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', outDir, '--pretty', 'false'], {
      cwd: outDir,
    }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    const errors = result.out.split('\n').filter((l) => /error TS\d+/.test(l));
    const canaryErrors = errors.filter((l) => l.startsWith('canary.ts'));
    const snippetErrors = errors
      .filter((l) => !l.startsWith('canary.ts'))
      .map((l) => l.replace(/^(snippet-\d+\.ts)/, (n) => `${names.get(n) ?? n} → ${n}`));
    expect(snippetErrors, `snippets that do not compile (block line → file in ${outDir}):`).toEqual([]);
    expect(canaryErrors.some((l) => l.includes('error TS18047'))).toBe(true);
    expect(result.code).not.toBe(0);
  });
});
