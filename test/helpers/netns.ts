/**
 * Network partitions on one machine (issue 18 item 6): every host of a test
 * cluster — ZooKeeper, each broker — runs in its own Linux network namespace,
 * joined by a veth to a Linux bridge in a hub namespace; the test process
 * itself (the client) reaches the bridge through one more veth. All of it is
 * private: addresses in one 10.213.X.0/24 chosen per run, no default route in
 * any namespace, nothing routed to the host's real interfaces. A link is cut
 * by dropping, in each namespace, whatever arrives from the other's address
 * (an `ip rule ... blackhole` on the source ahead of the local table): the
 * packets vanish silently, as on a real partition, instead of failing fast.
 *
 * Why the client runs in the test process (root namespace + a veth into the
 * hub) rather than as a child in a namespace of its own: the test reads the
 * cluster throughout (ZooKeeper's partition state, metadata, the log read
 * back) and every read would otherwise be a child process and a message
 * protocol; the extra veth is a private link the test made, its /24 route
 * goes nowhere else, and it disappears with the hub namespace. A cut
 * involving the client drops packets only in the other host's namespace (no
 * rule is ever added in the root namespace).
 *
 * Names are `slnp<pid>-<host>` (namespaces) and `slnp<pid>-c` (the root
 * veth), so parallel runs never collide; destroy() stops every process the
 * network started (by PID) and deletes every namespace and the veth, and a
 * process 'exit' hook deletes them too should afterAll not run.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import { Sluice, type SluiceOptions } from '../../src/index.js';
import { BrokerProcess } from './broker-process.js';
import { exited, killAndWait } from './child-process.js';
import { pollUntil } from './poll.js';
import { storedRecordsIn } from './storage.js';
import { tempDir } from './temp-dir.js';
import { answersSrvr, ensureZooKeeper, writeZooConfig, zookeeperScript } from './zookeeper.js';

/** The host name of the test process itself (the root namespace's end of the hub). */
export const clientHost = 'client';
const prefix = `slnp${process.pid}-`;
/** Rule priority of the cuts: ahead of the local table, which moves from 0 to localRulePref. */
const cutRulePref = 10;
const localRulePref = 100;
const ipTimeoutMs = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `ip ARGS`; throws with its stderr when it fails. */
function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: ipTimeoutMs });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** `ip ARGS`, its failure ignored (cleanup of what may already be gone). */
function ipQuiet(args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore', timeout: ipTimeoutMs });
}

/**
 * Why network namespaces cannot be made here (not root, no `ip`, no
 * permission), or undefined when they can: a namespace is made and deleted to find out.
 */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (the tests run as an ordinary user)';
  const probe = `${prefix}probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], {
    encoding: 'utf8',
    timeout: ipTimeoutMs,
  });
  if (r.error) return `cannot run ip (iproute2): ${r.error.message}`;
  if (r.status !== 0) return `ip netns add failed: ${r.stderr.trim()}`;
  ipQuiet(['netns', 'del', probe]);
  return undefined;
}

/** A /24 in 10.213.0.0/16 not routed in the root namespace yet (another run's, or the host's). */
function freeSubnet(): number {
  const routes = spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let i = 0; i < 200; i++) {
    const x = 20 + ((process.pid + i) % 200);
    if (!routes.includes(`10.213.${x}.`)) return x;
  }
  throw new Error('no free 10.213.x.0/24 subnet for the test network');
}

interface Host {
  name: string;
  /** The namespace, or undefined for the client (the root namespace). */
  ns: string | undefined;
  address: string;
}

export class NetnsNetwork {
  private readonly hosts = new Map<string, Host>();
  /** Cut pairs, as "a|b" with a < b. */
  private readonly cuts = new Set<string>();
  private readonly processes = new Set<ChildProcess>();
  private readonly namespaces: string[] = [];
  private readonly rootVeth = `${prefix}c`;
  private destroyed = false;
  private readonly onExit = (): void => this.deleteLinks();

  private constructor(readonly subnet: string) {}

  /**
   * The hub (a bridge), one namespace per host (addresses .11, .12, ... in
   * the order given) and the client's veth (.254). Undone when it fails half-way.
   */
  static create(hostNames: string[]): NetnsNetwork {
    const x = freeSubnet();
    const net = new NetnsNetwork(`10.213.${x}`);
    process.once('exit', net.onExit);
    try {
      const hub = net.addNamespace('hub');
      ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', hub, 'link', 'set', 'br0', 'up']);
      hostNames.forEach((name, i) => {
        if (name === clientHost || name === 'hub') throw new Error(`${name} is not a host name the network may use`);
        const ns = net.addNamespace(name);
        const address = `${net.subnet}.${11 + i}`;
        // made in place: the veth never exists in the root namespace
        ip(['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `v-${name}`, 'netns', hub]);
        ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
        ip(['-n', hub, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
        // the cuts' rules must come before the local table's, which is at priority 0
        ip(['-n', ns, 'rule', 'add', 'pref', String(localRulePref), 'lookup', 'local']);
        ip(['-n', ns, 'rule', 'del', 'pref', '0']);
        net.hosts.set(name, { name, ns, address });
      });
      ip(['link', 'add', net.rootVeth, 'type', 'veth', 'peer', 'name', 'v-client', 'netns', hub]);
      ip(['-n', hub, 'link', 'set', 'v-client', 'master', 'br0', 'up']);
      ip(['addr', 'add', `${net.subnet}.254/24`, 'dev', net.rootVeth]);
      ip(['link', 'set', net.rootVeth, 'up']);
      net.hosts.set(clientHost, {
        name: clientHost,
        ns: undefined,
        address: `${net.subnet}.254`,
      });
    } catch (err) {
      net.deleteLinks();
      throw err;
    }
    return net;
  }

  private addNamespace(name: string): string {
    const ns = `${prefix}${name}`;
    ip(['netns', 'add', ns]);
    this.namespaces.push(ns);
    return ns;
  }

  private host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} in the network (${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  address(name: string): string {
    return this.host(name).address;
  }

  namespace(name: string): string {
    const ns = this.host(name).ns;
    if (!ns) throw new Error(`${name} runs in the root namespace`);
    return ns;
  }

  get hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  private static pair(a: string, b: string): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  /** In `to`'s namespace (unless it is the client), add or delete the drop of everything from `from`. */
  private rule(op: 'add' | 'del', to: Host, from: Host): void {
    if (!to.ns) return;
    ip(['-n', to.ns, 'rule', op, 'pref', String(cutRulePref), 'from', from.address, 'blackhole']);
  }

  /** Cuts the link between two hosts both ways (packets dropped silently); a no-op when cut already. */
  cut(a: string, b: string): void {
    const ha = this.host(a);
    const hb = this.host(b);
    if (a === b) throw new Error(`cannot cut ${a} from itself`);
    const key = NetnsNetwork.pair(a, b);
    if (this.cuts.has(key)) return;
    this.rule('add', ha, hb);
    this.rule('add', hb, ha);
    this.cuts.add(key);
  }

  /** Restores the link between two hosts; a no-op when it is not cut. */
  heal(a: string, b: string): void {
    const key = NetnsNetwork.pair(a, b);
    if (!this.cuts.delete(key)) return;
    this.rule('del', this.host(a), this.host(b));
    this.rule('del', this.host(b), this.host(a));
  }

  /** Cuts `name` from every other host (the client included): a minority partition of one. */
  isolate(name: string): void {
    for (const other of this.hosts.keys()) if (other !== name) this.cut(name, other);
  }

  /** Restores every link of `name`. */
  rejoin(name: string): void {
    for (const other of this.hosts.keys()) if (other !== name) this.heal(name, other);
  }

  /** Restores every cut link. */
  healAll(): void {
    for (const key of [...this.cuts]) {
      const [a, b] = key.split('|') as [string, string];
      this.heal(a, b);
    }
  }

  /** The cut links, as "a|b". */
  get cutLinks(): string[] {
    return [...this.cuts];
  }

  /** `times` rounds of: the link cut for `periodMs`, then up for `periodMs`. Ends healed. */
  async flap(a: string, b: string, periodMs: number, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      this.cut(a, b);
      await sleep(periodMs);
      this.heal(a, b);
      await sleep(periodMs);
    }
  }

  /**
   * Spawns `argv` inside `host`'s namespace (`ip netns exec NS argv...`: ip
   * exec's the program, so the child's PID is the program's own). The process
   * is stopped by PID in destroy() unless it has exited.
   */
  exec(host: string, argv: string[], options: SpawnOptions = {}): ChildProcess {
    const [program, ...args] = argv;
    if (program === undefined) throw new Error('exec needs a program');
    const ns = this.host(host).ns;
    const child = ns ? spawn('ip', ['netns', 'exec', ns, program, ...args], options) : spawn(program, args, options);
    this.processes.add(child);
    child.once('exit', () => this.processes.delete(child));
    return child;
  }

  /** Kills every process exec() started (SIGKILL by PID), then deletes the namespaces and the client's veth. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.processes].map((c) => killAndWait(c)));
    this.deleteLinks();
    process.removeListener('exit', this.onExit);
  }

  /** Deletes the namespaces (their veths and rules go with them) and the client's veth. Synchronous: runs at exit too. */
  private deleteLinks(): void {
    for (const child of this.processes) {
      if (!exited(child) && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    ipQuiet(['link', 'del', this.rootVeth]);
    for (const ns of this.namespaces.splice(0)) ipQuiet(['netns', 'del', ns]);
  }
}

export interface NetnsClusterOptions {
  brokers?: number;
  /** Broker overrides (after the ones the cluster sets: zookeeper.connect, host.name, ports). */
  overrides?: string[];
  /** Where the broker logs are saved when the cluster stops. */
  logsDir: string;
}

/** A broker's stored record, with what replicas must agree on. */
export interface NetnsStoredRecord {
  offset: number;
  value: string | null;
  /** Key, value and timestamp: what the replicas must agree on. */
  digest: string;
}

/** A partition's state as the controller wrote it to ZooKeeper. */
export interface PartitionState {
  leader: number;
  leader_epoch: number;
  isr: number[];
}

/** The native port every broker listens on (each in its own namespace, so the same port). */
export const netnsBrokerPort = 9092;
const zkPort = 2181;
const startTimeoutMs = 60_000;

/**
 * ZooKeeper (host "zk") and brokers 1..N (hosts "b1".."bN") each in its own
 * namespace of a NetnsNetwork, on fixed ports at their namespace's address.
 * The test process is the client. stop() kills everything by PID and deletes the network.
 */
export class NetnsCluster {
  private readonly brokers = new Map<number, BrokerProcess>();
  private readonly clients = new Set<Sluice>();
  private zkClient: ZkClient | undefined;
  private zkProcess: ChildProcess | undefined;
  private zkOutput = '';
  private readonly cleanups: (() => void)[] = [];
  private stopped = false;

  private constructor(
    readonly net: NetnsNetwork,
    private readonly logsDir: string,
  ) {}

  static async start(options: NetnsClusterOptions): Promise<NetnsCluster> {
    ensureZooKeeper();
    const count = options.brokers ?? 3;
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const net = NetnsNetwork.create(['zk', ...ids.map((id) => `b${id}`)]);
    const cluster = new NetnsCluster(net, options.logsDir);
    try {
      await cluster.startZooKeeper();
      const started = await Promise.allSettled(ids.map((id) => cluster.startBroker(id, options.overrides ?? [])));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  private async startZooKeeper(): Promise<void> {
    const { dir, cleanup } = tempDir('sluice-netns-zk-');
    this.cleanups.push(cleanup);
    // a later clientPortAddress wins: ZooKeeper listens on its namespace's address
    const config = writeZooConfig(dir, zkPort, [`clientPortAddress=${this.net.address('zk')}`]);
    const child = this.net.exec('zk', ['bash', zookeeperScript, 'run', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.zkProcess = child;
    const keep = (d: Buffer): void => {
      this.zkOutput = (this.zkOutput + d.toString()).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + startTimeoutMs;
    while (!(await answersSrvr(zkPort, this.net.address('zk')))) {
      if (exited(child) || Date.now() > deadline)
        throw new Error(`ZooKeeper did not start in its namespace:\n${this.zkOutput}`);
      await sleep(100);
    }
  }

  private async startBroker(id: number, overrides: string[]): Promise<void> {
    const host = this.net.address(`b${id}`);
    const broker = await BrokerProcess.start({
      brokerId: id,
      netns: this.net.namespace(`b${id}`),
      host,
      startTimeoutMs,
      overrides: [
        `zookeeper.connect=${this.zookeeperConnect}`,
        `host.name=${host}`,
        `port=${netnsBrokerPort}`,
        `http.host=${host}`,
        'http.port=8161',
        'kafka.port=-1',
        ...overrides,
      ],
    });
    this.brokers.set(id, broker);
  }

  get zookeeperConnect(): string {
    return `${this.net.address('zk')}:${zkPort}`;
  }

  get ids(): number[] {
    return [...this.brokers.keys()].sort((a, b) => a - b);
  }

  broker(id: number): BrokerProcess {
    const b = this.brokers.get(id);
    if (!b) throw new Error(`no broker ${id}`);
    return b;
  }

  /** The network host a broker runs on. */
  static host(id: number): string {
    return `b${id}`;
  }

  get bootstrap(): string {
    return this.ids.map((id) => this.broker(id).address).join(',');
  }

  /** A client of the cluster (in the test process); closed by stop(). */
  client(options: SluiceOptions = {}): Sluice {
    const c = new Sluice({
      brokers: this.bootstrap,
      clientId: 'netns-it',
      connectTimeoutMs: 2000,
      ...options,
    });
    this.clients.add(c);
    return c;
  }

  async closeClient(c: Sluice): Promise<void> {
    this.clients.delete(c);
    await c.close().catch(() => undefined);
  }

  private async zk(): Promise<ZkClient> {
    if (!this.zkClient || this.zkClient.isClosed) {
      this.zkClient = await ZkClient.connect({
        connect: this.zookeeperConnect,
        sessionTimeoutMs: 10_000,
        connectTimeoutMs: 10_000,
      });
    }
    return this.zkClient;
  }

  /** The partition's leader, epoch and ISR as ZooKeeper holds them (the controller's word). */
  async partitionState(topic: string, partition: number): Promise<PartitionState | undefined> {
    const node = await (await this.zk()).get(`/brokers/topics/${topic}/partitions/${partition}/state`);
    return node ? (JSON.parse(node.data) as PartitionState) : undefined;
  }

  /** The broker /controller names, -1 when none does. */
  async controllerId(): Promise<number> {
    const node = await (await this.zk()).get('/controller');
    return node ? (JSON.parse(node.data) as { brokerid: number }).brokerid : -1;
  }

  /** Broker ids registered under /brokers/ids. */
  async registeredIds(): Promise<number[]> {
    return (await (await this.zk()).children('/brokers/ids')).map(Number).sort((a, b) => a - b);
  }

  /** Calls `probe` every 100 ms until it returns a value; errors count as "not yet". */
  poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    return pollUntil(what, timeoutMs, probe);
  }

  /** One broker's stored records of a partition (key, value, timestamp), from its segment files. */
  storedRecords(id: number, topic: string, partition: number): NetnsStoredRecord[] {
    const dir = path.join(this.broker(id).dataDir, `${topic}-${partition}`);
    if (!fs.existsSync(dir)) return [];
    return storedRecordsIn(dir).map((r) => ({
      offset: r.offset,
      value: r.value?.toString() ?? null,
      digest: `${r.key?.toString() ?? ''}|${r.value?.toString() ?? ''}|${r.timestamp}`,
    }));
  }

  output(id: number): string {
    return this.broker(id).recentOutput;
  }

  /** Stops the clients, the brokers and ZooKeeper (by PID), saves the broker logs and deletes the network. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const clients = [...this.clients];
    this.clients.clear();
    // a client of a cut broker would wait out its timeouts: heal first
    this.net.healAll();
    await Promise.allSettled(clients.map((c) => c.close()));
    await this.zkClient?.close().catch(() => undefined);
    try {
      fs.mkdirSync(this.logsDir, { recursive: true });
      for (const id of this.ids) fs.writeFileSync(path.join(this.logsDir, `broker-${id}.log`), this.output(id));
      fs.writeFileSync(path.join(this.logsDir, 'zookeeper.log'), this.zkOutput);
    } catch {
      // diagnostics only
    }
    await Promise.allSettled([...this.brokers.values()].map((b) => b.destroy()));
    if (this.zkProcess) await killAndWait(this.zkProcess);
    await this.net.destroy();
    for (const c of this.cleanups) c();
  }
}
