/**
 * Runs once per `vitest run`, before any test file: bundles the CLI
 * (src/cli/main.ts and all of src it reaches, npm packages left as imports)
 * into test/.build/sluice.mjs, so the CLI tests spawn plain `node` on one
 * file instead of paying tsx's start and per-module TypeScript transform on
 * every `sluice` call (about 1 s a call on this machine; the CLI test files
 * make dozens of calls). The bundle is rebuilt from src on every run, so it
 * is never staler than the tests. Brokers still run from src under tsx
 * (the HTTP console finds its files next to its module).
 */
import { build } from 'esbuild';
import { cliBundle, cliEntry } from './helpers/broker-process.js';

export default async function setup(): Promise<void> {
  await build({
    entryPoints: [cliEntry],
    outfile: cliBundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}
