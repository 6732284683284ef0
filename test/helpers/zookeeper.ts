/**
 * A real ZooKeeper server (Debian's package, via scripts/zookeeper.sh) on a
 * free loopback port with its data in a temp dir, for cluster tests. Stopped
 * by PID. When the package is missing and cannot be installed the start
 * fails with the script's one-line reason — a test never skips silently.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { repoRoot } from './broker-process.js';
import { exited, killAndWait } from './child-process.js';
import { tempDir } from './temp-dir.js';

const script = path.join(repoRoot, 'scripts/zookeeper.sh');
const readyTimeoutMs = 20_000;

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What the server answers the `srvr` four-letter word ('' when it does not answer). */
function srvr(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('srvr'));
    socket.on('data', (d) => {
      reply += d.toString();
    });
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(reply));
  });
}

/** True once the server answers the `srvr` four-letter word (it serves sessions then). */
export async function answersSrvr(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await srvr(port, host)).includes('Zookeeper version');
}

/** An ensemble member's role from `srvr` ("leader", "follower"; "standalone" alone), or undefined. */
export async function zookeeperMode(port: number): Promise<string | undefined> {
  return /Mode: (\w+)/.exec(await srvr(port))?.[1];
}

/** Throws with scripts/zookeeper.sh's one-line reason when the package is missing and cannot be installed. */
export function ensureZooKeeper(): void {
  const ensured = spawnSync('bash', [script, 'ensure'], { encoding: 'utf8' });
  if (ensured.status !== 0) throw new Error(ensured.stderr.trim() || 'scripts/zookeeper.sh ensure failed');
}

/**
 * Writes a zoo.cfg for a throw-away server in `dir` on 127.0.0.1:`port`
 * (short ticks so sessions can be as short as 1 s) and returns its path;
 * `scripts/zookeeper.sh run CONFIG` runs it.
 */
export function writeZooConfig(dir: string, port: number, extraLines: string[] = []): string {
  const config = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(
    config,
    [
      `dataDir=${path.join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'tickTime=500',
      'minSessionTimeout=1000',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok,srvr',
      ...extraLines,
      '',
    ].join('\n'),
  );
  return config;
}

export const zookeeperScript = script;

export class ZooKeeperServer {
  private output = '';

  private constructor(
    private child: ChildProcess,
    readonly port: number,
    private readonly config: string,
    private readonly cleanup: () => void,
  ) {}

  get connect(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(): Promise<ZooKeeperServer> {
    ensureZooKeeper();
    const { dir, cleanup } = tempDir('sluice-zk-');
    const port = await freePort();
    const config = writeZooConfig(dir, port);
    const server = new ZooKeeperServer(ZooKeeperServer.spawn(config), port, config, cleanup);
    server.keepOutput();
    await server.waitReady();
    return server;
  }

  /**
   * Starts a member of an ensemble from its written config (scripts/zookeeper.sh runs a config with
   * server.N lines as a quorum peer) without waiting: a member serves only once a quorum has formed.
   */
  static launchMember(config: string, port: number, cleanup: () => void): ZooKeeperServer {
    const server = new ZooKeeperServer(ZooKeeperServer.spawn(config), port, config, cleanup);
    server.keepOutput();
    return server;
  }

  /** Resolves once the server answers `srvr` (serves sessions); stops it and throws past the bound. */
  async ready(): Promise<void> {
    await this.waitReady();
  }

  private static spawn(config: string): ChildProcess {
    return spawn('bash', [script, 'run', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  private keepOutput(): void {
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-8192);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await answersSrvr(this.port))) {
      if (this.child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`ZooKeeper did not start on port ${this.port}:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get recentOutput(): string {
    return this.output;
  }

  /** True while the server process started last has not exited. */
  get running(): boolean {
    return !exited(this.child);
  }

  /** The server's PID (the script exec's java, so this is the JVM): for kill -9 and SIGSTOP/SIGCONT. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** kill -9 by PID, keeping the data dir: restart() brings the same server back. */
  async kill(): Promise<void> {
    await killAndWait(this.child);
  }

  /**
   * Starts the server again on the same port and data dir (its sessions and
   * znodes as its snapshot and transaction log kept them); kills it first if
   * it runs. Resolves once it serves sessions.
   */
  async restart(): Promise<void> {
    await killAndWait(this.child);
    this.child = ZooKeeperServer.spawn(this.config);
    this.keepOutput();
    await this.waitReady();
  }

  /** Kills the server by PID (the script exec's java, so this is the JVM) and removes its data. */
  async stop(): Promise<void> {
    await killAndWait(this.child);
    this.cleanup();
  }
}

/**
 * A three-node (or any odd size) ZooKeeper ensemble on loopback, each member a real server with its
 * own data dir and ports, for tests that lose one node at a time: a quorum keeps serving. The same
 * surface as one server where a test treats "ZooKeeper" as a whole (connect string, stop), plus
 * `members` for faults of one node.
 */
export class ZooKeeperEnsemble {
  private constructor(readonly members: ZooKeeperServer[]) {}

  static async start(size = 3): Promise<ZooKeeperEnsemble> {
    ensureZooKeeper();
    const ports = [];
    for (let i = 0; i < size; i++)
      ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
    const servers = ports.map((p, i) => `server.${i + 1}=127.0.0.1:${p.quorum}:${p.election}`);
    const members: ZooKeeperServer[] = [];
    try {
      for (const [i, p] of ports.entries()) {
        const { dir, cleanup } = tempDir(`sluice-zk${i + 1}-`);
        const config = writeZooConfig(dir, p.client, ['initLimit=10', 'syncLimit=5', ...servers]);
        fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'data', 'myid'), `${i + 1}\n`);
        members.push(ZooKeeperServer.launchMember(config, p.client, cleanup));
      }
      await Promise.all(members.map((m) => m.ready()));
    } catch (err) {
      await Promise.all(members.map((m) => m.stop()));
      throw err;
    }
    return new ZooKeeperEnsemble(members);
  }

  /** Every member, as a client connect string. */
  get connect(): string {
    return this.members.map((m) => m.connect).join(',');
  }

  get running(): boolean {
    return this.members.every((m) => m.running);
  }

  get recentOutput(): string {
    return this.members.map((m, i) => `--- zookeeper ${i + 1}\n${m.recentOutput}`).join('\n');
  }

  /** No single PID: faults of one node go through `members`. */
  get pid(): number | undefined {
    return undefined;
  }

  /** kill -9 of every member (their data kept). */
  async kill(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
  }

  /** Every member started again (killed first if running); resolves once all serve. */
  async restart(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    await Promise.all(this.members.map((m) => m.restart()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
