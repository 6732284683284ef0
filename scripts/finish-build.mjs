#!/usr/bin/env node
// Run by `npm run build` and `prepare` after tsc: tsc copies no non-TypeScript
// files, so the web console's static files (src/http/console/) are copied to
// dist/http/console/, where the compiled src/http/console-routes.js looks for
// them — dist is what the package ships. Then the CLI entry is made executable.
//   node scripts/finish-build.mjs [OUT_DIR]   (default: dist, beside scripts/)
import { chmodSync, cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const outDir = new URL(`${process.argv[2] ?? 'dist'}/`, root);
const consoleFrom = fileURLToPath(new URL('src/http/console/', root));
const consoleTo = fileURLToPath(new URL('http/console/', outDir));

// a file removed from src/http/console/ must not linger in dist
rmSync(consoleTo, { recursive: true, force: true });
cpSync(consoleFrom, consoleTo, { recursive: true });
chmodSync(fileURLToPath(new URL('cli/main.js', outDir)), 0o755);
