/**
 * The web console ships with the package: `npm pack` (which runs `prepare`,
 * i.e. tsc and scripts/finish-build.mjs) lists every file of src/http/console/
 * under dist/http/console/, and a broker started from the unpacked tarball's
 * compiled CLI (no src/ in it) serves them. The tarball's dependencies come
 * from the repository's node_modules, as they would from an installing project's.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
/** tsc over the whole source tree on a loaded machine */
const packTimeoutMs = 300_000;
const consoleSrc = path.join(repoRoot, 'src/http/console');
const consoleFiles = readdirSync(consoleSrc);

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

const { dir, cleanup } = tempDir('sluice-pack-');
let packed: PackEntry;
let broker: BrokerProcess | undefined;

beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    timeout: packTimeoutMs,
  });
  const entries = JSON.parse(stdout) as PackEntry[];
  expect(entries).toHaveLength(1);
  packed = entries[0] as PackEntry;
  await run('tar', ['-xzf', path.join(dir, packed.filename), '-C', dir], { timeout: 60_000 });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'package/node_modules'), 'dir');
}, packTimeoutMs + 60_000);

afterAll(async () => {
  await broker?.destroy();
  cleanup();
});

describe('the packaged web console', () => {
  it('npm pack lists every console file under dist/http/console/', () => {
    expect(consoleFiles).toEqual(expect.arrayContaining(['index.html', 'console.js', 'console.css']));
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/http/console-routes.js');
    for (const name of consoleFiles) expect(paths).toContain(`dist/http/console/${name}`);
  });

  it('a broker started from the unpacked package serves the console', async () => {
    broker = await BrokerProcess.start({ packageDir: path.join(dir, 'package') });
    const base = `http://127.0.0.1:${broker.httpPort}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toBe(readFileSync(path.join(consoleSrc, 'index.html'), 'utf8'));
    for (const name of consoleFiles.filter((n) => n !== 'index.html')) {
      const res = await fetch(`${base}/console/${name}`);
      expect(res.status, name).toBe(200);
      expect(await res.text(), name).toBe(readFileSync(path.join(consoleSrc, name), 'utf8'));
    }
  });
});
