/**
 * Runs once per `vitest run`, before any test file: bundles the CLI
 * (src/cli/main.ts and all of src it reaches, npm packages left as imports)
 * into test/.build/sluice.mjs, so the tests spawn plain `node` on one file
 * for every `sluice` call and every broker process, instead of paying tsx's
 * start and per-module TypeScript transform each time (about 0.8 s a process
 * on this machine; the CLI test files make dozens of calls, the cluster tests
 * start three brokers and restart them). The HTTP console's module and files
 * go beside it, where the broker looks for them (src/http/http-server.ts).
 * The bundle is rebuilt from src on every run, so it is never staler than the
 * tests; SLUICE_TEST_BUNDLE (inherited by the test workers) says it is there.
 * Outside vitest (benchmarks) the helpers run src under tsx as before.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { cliBundle, cliEntry, repoRoot } from './helpers/broker-process.js';

export default async function setup(): Promise<void> {
  const common = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  } as const;
  const outDir = path.dirname(cliBundle);
  await Promise.all([
    build({ ...common, entryPoints: [cliEntry], outfile: cliBundle }),
    build({
      ...common,
      entryPoints: [path.join(repoRoot, 'src/http/console-routes.ts')],
      outfile: path.join(outDir, 'console-routes.js'),
    }),
  ]);
  cpSync(path.join(repoRoot, 'src/http/console'), path.join(outDir, 'console'), { recursive: true });
  process.env.SLUICE_TEST_BUNDLE = cliBundle;
}
