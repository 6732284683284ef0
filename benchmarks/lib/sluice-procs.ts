/**
 * Sluice broker processes for the suite: `node dist/cli/main.js broker start`
 * (dist/ rebuilt first when older than src/; tsx on src/ when the build
 * fails), each on an ephemeral port of 127.0.0.1 with a temp log.dirs, and a
 * real ZooKeeper (scripts/zookeeper.sh run, temp config) for the cluster.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answersSrvr, ensureZooKeeper, writeZooConfig, zookeeperScript } from '../../test/helpers/zookeeper.js';
import { type Child, freePort, removeDir, rssBytes, spawnChild, stopChild, tempDir, waitFor } from './procs.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const distEntry = path.join(repoRoot, 'dist/cli/main.js');
const srcEntry = path.join(repoRoot, 'src/cli/main.ts');
const brokerStartTimeoutMs = 60_000;

export type BrokerRuntime = 'dist' | 'tsx';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * dist/ when it is at least as new as src/ (building it when not); tsx on
 * src/ when the build fails (e.g. src/ is mid-edit). Returns what the brokers run and why.
 */
export function prepareBrokerRuntime(log: (s: string) => void): { runtime: BrokerRuntime; note: string } {
  const distTime = fs.existsSync(distEntry) ? fs.statSync(distEntry).mtimeMs : 0;
  if (distTime >= newestMtime(path.join(repoRoot, 'src'))) return { runtime: 'dist', note: 'dist/ up to date' };
  log('dist/ is older than src/: npm run build');
  const built = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (built.status === 0) return { runtime: 'dist', note: 'dist/ rebuilt' };
  const why = `${built.stdout}\n${built.stderr}`.trim().split('\n').slice(-3).join(' | ');
  log(`npm run build failed (${why}); brokers run src/ through tsx`);
  return { runtime: 'tsx', note: 'build failed: tsx on src/' };
}

export class SluiceBroker {
  port = 0;
  private constructor(
    readonly id: number,
    readonly child: Child,
    readonly dataDir: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid;
  }

  rss(): number {
    return rssBytes(this.child.pid);
  }

  static async start(runtime: BrokerRuntime, id = 0, overrides: string[] = []): Promise<SluiceBroker> {
    const dataDir = tempDir(`sluice-bench-broker${id}-`);
    const entry = runtime === 'dist' ? [distEntry] : ['--import', 'tsx', srcEntry];
    const args = [
      ...entry,
      'broker',
      'start',
      '--config',
      path.join(repoRoot, 'config/server.properties'),
      ...[
        'port=0',
        `log.dirs=${dataDir}`,
        `broker.id=${id}`,
        'host.name=127.0.0.1',
        'http.port=0',
        'kafka.port=-1',
        // one segment per partition for the whole run; no retention work while measuring
        'log.retention.check.interval.ms=3600000',
        ...overrides,
      ].flatMap((o) => ['--override', o]),
    ];
    const child = spawnChild(`broker ${id}`, process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'info' },
    });
    const broker = new SluiceBroker(id, child, dataDir);
    child.onLine((line) => {
      if (broker.port !== 0 || !line.includes('broker listening')) return;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
        if (entry.msg === 'broker listening' && typeof entry.port === 'number') broker.port = entry.port;
      } catch {
        // not JSON
      }
    });
    try {
      await waitFor(`broker ${id}`, () => broker.port !== 0, brokerStartTimeoutMs, child);
    } catch (err) {
      await broker.stop();
      throw err;
    }
    return broker;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 10_000);
    removeDir(this.dataDir);
  }
}

export class ZooKeeper {
  private constructor(
    readonly child: Child,
    readonly port: number,
    readonly dir: string,
  ) {}

  get connect(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Throws with scripts/zookeeper.sh's one-line reason when the package is missing and cannot be installed. */
  static async start(): Promise<ZooKeeper> {
    ensureZooKeeper();
    const dir = tempDir('sluice-bench-zk-');
    const port = await freePort();
    const config = writeZooConfig(dir, port);
    // the script exec's java: this PID is the JVM's
    const child = spawnChild('zookeeper', 'bash', [zookeeperScript, 'run', config]);
    const zk = new ZooKeeper(child, port, dir);
    try {
      await waitFor('zookeeper', () => answersSrvr(port), 30_000, child);
    } catch (err) {
      await zk.stop();
      throw err;
    }
    return zk;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 5_000);
    removeDir(this.dir);
  }
}

/** ZooKeeper and `count` brokers (ids 1..count), started together; stop() stops all of them. */
export class LocalCluster {
  private constructor(
    readonly zookeeper: ZooKeeper,
    readonly brokers: SluiceBroker[],
  ) {}

  get bootstrap(): string {
    return this.brokers.map((b) => b.address).join(',');
  }

  static async start(runtime: BrokerRuntime, count: number): Promise<LocalCluster> {
    const zookeeper = await ZooKeeper.start();
    const overrides = [
      `zookeeper.connect=${zookeeper.connect}`,
      'default.replication.factor=3',
      'group.initial.rebalance.delay.ms=0',
    ];
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => SluiceBroker.start(runtime, i + 1, overrides)),
    );
    const brokers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const cluster = new LocalCluster(zookeeper, brokers);
    if (failed) {
      await cluster.stop();
      throw failed.reason;
    }
    return cluster;
  }

  async stop(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.stop()));
    await this.zookeeper.stop();
  }
}
