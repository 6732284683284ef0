/**
 * The web console ships with the package: `npm pack` (which runs `prepare`,
 * i.e. tsc and scripts/finish-build.mjs) lists every file of src/http/console/
 * under dist/http/console/, and a broker started from the unpacked tarball's
 * compiled CLI (no src/ in it) serves them. The tarball's dependencies come
 * from the repository's node_modules, as they would from an installing project's.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
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
let bare: ChildProcess | undefined;

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
  if (bare) await killAndWait(bare);
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

/** Starts the packaged CLI's `broker start` in `cwd` and resolves with its start-up summary line. */
function startBare(cwd: string, args: string[]): Promise<{ summary: Record<string, unknown>; output: () => string }> {
  const child = spawn(process.execPath, [path.join(dir, 'package/dist/cli/main.js'), 'broker', 'start', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bare = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "broker listening" line in 30 s\n${output}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      for (const line of output.split('\n')) {
        if (!line.includes('"msg":"broker listening"')) continue;
        clearTimeout(timer);
        resolve({ summary: JSON.parse(line) as Record<string, unknown>, output: () => output });
        return;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the broker exited (code ${code})\n${output}`));
    });
  });
}

describe('the package installed in a project', () => {
  it("ships every file its install scripts run (npm install of the tarball runs the package's postinstall)", () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const paths = packed.files.map((f) => f.path);
    const named = (manifest.scripts.postinstall ?? '').match(/scripts\/[\w.-]+/g) ?? [];
    expect(named.length).toBeGreaterThan(0);
    for (const file of named) expect(paths).toContain(file);
  });

  it("`sluice broker start` without --config in an empty folder uses the package's config and users file", async () => {
    const { dir: empty, cleanup: removeEmpty } = tempDir('sluice-empty-');
    try {
      const { summary, output } = await startBare(empty, [
        '--override',
        'port=0',
        '--override',
        'kafka.port=0',
        '--override',
        'http.port=0',
      ]);
      expect(output()).toContain("no config/server.properties here and no --config: starting with the package's own");
      // log.dirs=./data of the package's server.properties, in the working folder
      expect(summary.dirs).toEqual([path.join(empty, 'data')]);
      const http = String(summary.http);
      expect((await fetch(`${http}/`)).status).toBe(200);
      // the package's users file was imported: its shipped admin logs in (and the broker warns about it)
      const login = await fetch(`${http}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'admin' }),
      });
      expect(login.status).toBe(200);
      // the check runs beside the start (a few password hashes): wait for its line
      for (let i = 0; i < 100 && !output().includes('shipped console password'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(output()).toContain('shipped console password still in use (admin/admin, viewer/viewer)');
    } finally {
      if (bare) await killAndWait(bare);
      bare = undefined;
      removeEmpty();
    }
  });
});
