/**
 * A real Sluice cluster for integration tests: one ZooKeeper server
 * (Debian's package, free loopback port) and N broker processes (broker.id
 * 1..N) started in parallel, each on an ephemeral port (native and Kafka
 * listener) with its own data dir.
 * Brokers are killed and restarted by PID; leaders and ISRs are read through
 * the client's metadata, registrations and the controller from ZooKeeper.
 *
 * Each broker's output (across restarts) is saved to
 * test/.results/cluster-logs/<label>/broker-<id>.log when the cluster stops,
 * for diagnosing a failed test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Consumer } from '../../src/client/consumer.js';
import { isRetriableError } from '../../src/client/errors.js';
import type { CreateTopicOptions } from '../../src/client/types.js';
import { ZkClient } from '../../src/coordination/zookeeper/zk-client.js';
import {
  type ConsumerRecord,
  type PartitionDescription,
  Sluice,
  type SluiceOptions,
  type TopicDescription,
} from '../../src/index.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { FindCoordinatorResponse } from '../../src/protocol/native/group-messages.js';
import { ErrorCode } from '../../src/shared/errors.js';
import { BrokerProcess, type BrokerProcessOptions, repoRoot } from './broker-process.js';
import { pollUntil } from './poll.js';
import { RawClient } from './raw-client.js';
import { storedRecordsIn } from './storage.js';
import { ZooKeeperEnsemble, ZooKeeperServer } from './zookeeper.js';

/** Broker overrides every test cluster gets: short session and lag timeouts so failover is quick. */
export const clusterOverrides = [
  'zookeeper.session.timeout.ms=3000',
  'replica.lag.time.max.ms=3000',
  'leader.imbalance.check.interval.seconds=2',
  'group.initial.rebalance.delay.ms=0',
  // no fixed HTTP port: brokers of parallel test files must not collide on 8161
  'http.port=0',
];

export const zkSessionTimeoutMs = 3000;
const brokerStartTimeoutMs = 60_000;
const waitTimeoutMsDefault = 30_000;
const pollMs = 100;
const logsRoot = path.join(repoRoot, 'test/.results/cluster-logs');

export interface TestClusterOptions {
  brokers?: number;
  /** Extra broker overrides (after the cluster's own; a later one wins). */
  overrides?: string[];
  /** Security options (ssl, sasl) of every client the helper opens, for a secured cluster. */
  clientSecurity?: Pick<SluiceOptions, 'ssl' | 'sasl'>;
  /** Names the directory the broker logs are saved to (default: a timestamp). */
  label?: string;
  /** Where the broker logs are saved (default: test/.results/cluster-logs/<label>). */
  logsDir?: string;
  /** ZooKeeper servers: 1 (default) or an ensemble of 3 (a quorum survives losing one). */
  zookeeperNodes?: 1 | 3;
  /** Process options of one broker (e.g. tmpfsBytes: its data dir on a small tmpfs). */
  brokerOptions?: (id: number) => Pick<BrokerProcessOptions, 'tmpfsBytes'>;
}

export interface StoredRecord {
  offset: number;
  key: string | null;
  value: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * consumer.poll(), with a retriable error (a leader or coordinator that just
 * died or moved) answered by [] after a short pause, as run() does it.
 */
export async function pollPatiently(consumer: Consumer, maxWaitMs = 200): Promise<ConsumerRecord[]> {
  try {
    return await consumer.poll({ maxWaitMs });
  } catch (err) {
    if (!isRetriableError(err)) throw err;
    await sleep(100);
    return [];
  }
}

export class TestCluster {
  private readonly brokers = new Map<number, BrokerProcess>();
  /** Output of earlier incarnations of each broker (BrokerProcess keeps only the current one's). */
  private readonly history = new Map<number, string>();
  /** Brokers whose current (stopped) incarnation's output is already in `history`. */
  private readonly kept = new Set<number>();
  private readonly clients = new Set<Sluice>();
  private adminClient: Sluice | undefined;
  private zkClient: ZkClient | undefined;
  private stopped = false;
  private brokerOptions: TestClusterOptions['brokerOptions'];

  private constructor(
    readonly zookeeper: ZooKeeperServer | ZooKeeperEnsemble,
    private readonly overrides: string[],
    readonly label: string,
    private readonly logsDir: string,
    private readonly clientSecurity: Pick<SluiceOptions, 'ssl' | 'sasl'> = {},
  ) {}

  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const count = options.brokers ?? 3;
    const zookeeper = options.zookeeperNodes === 3 ? await ZooKeeperEnsemble.start(3) : await ZooKeeperServer.start();
    const label = options.label ?? `cluster-${Date.now()}`;
    const overrides = [`zookeeper.connect=${zookeeper.connect}`, ...clusterOverrides, ...(options.overrides ?? [])];
    const cluster = new TestCluster(
      zookeeper,
      overrides,
      label,
      options.logsDir ?? path.join(logsRoot, label),
      options.clientSecurity,
    );
    cluster.brokerOptions = options.brokerOptions;
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const started = await Promise.allSettled(ids.map((id) => cluster.startBroker(id)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await cluster.stop();
      throw failed.reason;
    }
    return cluster;
  }

  /** Starts one more broker process with this cluster's settings (it is not kept unless it starts). */
  startExtraBroker(id: number, extraOverrides: string[] = []): Promise<BrokerProcess> {
    return BrokerProcess.start({
      ...this.brokerOptions?.(id),
      brokerId: id,
      overrides: [...this.overrides, ...extraOverrides],
      startTimeoutMs: brokerStartTimeoutMs,
    });
  }

  /** Starts broker `id` (not yet in the cluster) with the cluster's settings and keeps it, as start() does. */
  async addBroker(id: number): Promise<void> {
    if (this.brokers.has(id)) throw new Error(`broker ${id} is already in this cluster`);
    await this.startBroker(id);
  }

  private async startBroker(id: number): Promise<void> {
    const broker = await this.startExtraBroker(id);
    this.brokers.set(id, broker);
  }

  get ids(): number[] {
    return [...this.brokers.keys()].sort((a, b) => a - b);
  }

  /** Ids of the brokers whose processes run. */
  get liveIds(): number[] {
    return this.ids.filter((id) => this.broker(id).running);
  }

  /** PIDs of the cluster's processes running now (brokers, ZooKeeper), e.g. for a watchdog to kill. */
  get pids(): number[] {
    const zk = this.zookeeper instanceof ZooKeeperEnsemble ? this.zookeeper.members : [this.zookeeper];
    const running = [...this.ids.map((id) => this.broker(id)), ...zk].filter((p) => p.running);
    return running.map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  broker(id: number): BrokerProcess {
    const b = this.brokers.get(id);
    if (!b) throw new Error(`no broker ${id} in this cluster (ids ${this.ids.join(',')})`);
    return b;
  }

  /** Every broker's address, comma-separated (the current ports: a restart may have moved one). */
  get bootstrap(): string {
    return this.ids.map((id) => this.broker(id).address).join(',');
  }

  /**
   * Every broker's Kafka-listener address, comma-separated (BrokerProcess
   * starts each with kafka.port=0 and keeps the port across restarts when free).
   */
  get kafkaBootstrap(): string {
    return this.ids.map((id) => this.broker(id).kafkaBrokers).join(',');
  }

  /** A client on the whole cluster; closed by stop(). */
  client(options: SluiceOptions = {}): Sluice {
    const c = new Sluice({ brokers: this.bootstrap, clientId: 'cluster-it', ...this.clientSecurity, ...options });
    this.clients.add(c);
    return c;
  }

  /** The helper's own client: few retries, so a poll loop sees each failure and tries again. */
  private admin(): Sluice {
    this.adminClient ??= new Sluice({
      brokers: this.bootstrap,
      clientId: 'cluster-helper',
      retries: 1,
      retryBackoffMs: 50,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 10_000,
      ...this.clientSecurity,
    });
    return this.adminClient;
  }

  /** A ZooKeeper session for reading the cluster's znodes. */
  async zk(): Promise<ZkClient> {
    if (!this.zkClient || this.zkClient.isClosed) {
      this.zkClient = await ZkClient.connect({
        connect: this.zookeeper.connect,
        sessionTimeoutMs: 10_000,
        connectTimeoutMs: 10_000,
      });
    }
    return this.zkClient;
  }

  /** Closes the helper's ZooKeeper session (the next read opens a new one). */
  async closeZk(): Promise<void> {
    const zk = this.zkClient;
    this.zkClient = undefined;
    await zk?.close().catch(() => undefined);
  }

  /** Broker ids registered under /brokers/ids, sorted. */
  async registeredIds(): Promise<number[]> {
    const children = await (await this.zk()).children('/brokers/ids');
    return children.map(Number).sort((a, b) => a - b);
  }

  /** The registration JSON of a broker, or undefined when it is not registered. */
  async registration(id: number): Promise<Record<string, unknown> | undefined> {
    const node = await (await this.zk()).get(`/brokers/ids/${id}`);
    return node ? (JSON.parse(node.data) as Record<string, unknown>) : undefined;
  }

  /** The controller's broker id from /controller, or -1 when there is none. */
  async controllerId(): Promise<number> {
    const node = await (await this.zk()).get('/controller');
    if (!node) return -1;
    return (JSON.parse(node.data) as { brokerid: number }).brokerid;
  }

  /** Polls until a live broker (one whose process runs, not `exclude`) is the controller. */
  async waitForController(exclude: number[] = [], timeoutMs = waitTimeoutMsDefault): Promise<number> {
    return this.poll(`a live controller (not ${exclude.join(',') || '-'})`, timeoutMs, async () => {
      const id = await this.controllerId();
      return id >= 0 && this.brokers.get(id)?.running && !exclude.includes(id) ? id : undefined;
    });
  }

  /** The broker id FindCoordinator names for `group` (asked of a live broker), polled until it names a live one. */
  async coordinatorOf(group: string, options: { exclude?: number[]; timeoutMs?: number } = {}): Promise<number> {
    const exclude = options.exclude ?? [];
    return this.poll(
      `a live coordinator of group ${group} (not ${exclude.join(',') || '-'})`,
      options.timeoutMs ?? waitTimeoutMsDefault,
      async () => {
        const asked = this.liveIds[0];
        if (asked === undefined) return undefined;
        const raw = await RawClient.connect(this.broker(asked).port);
        try {
          const res = await raw.call<FindCoordinatorResponse>(ApiKey.FindCoordinator, { key: group }, 5000);
          if (res.errorCode !== 0) return undefined;
          return this.brokers.get(res.nodeId)?.running && !exclude.includes(res.nodeId) ? res.nodeId : undefined;
        } finally {
          raw.close();
        }
      },
    );
  }

  /** SIGKILL by PID; resolves once the process is gone, with the time the signal was sent. */
  async kill(id: number): Promise<number> {
    const broker = this.broker(id);
    this.keepOutput(id);
    const at = Date.now();
    await broker.stop('SIGKILL');
    return at;
  }

  /** SIGTERM (clean shutdown) by PID. */
  async shutdown(id: number): Promise<void> {
    this.keepOutput(id);
    await this.broker(id).stop('SIGTERM');
  }

  /**
   * Starts a stopped broker again on its data dir (and port, when free). A
   * killed broker's registration lives until its ZooKeeper session expires,
   * so this waits for the znode to go first (a live duplicate id is refused).
   */
  async restart(id: number): Promise<void> {
    const broker = this.broker(id);
    this.keepOutput(id);
    if (broker.running) await broker.stop('SIGTERM');
    await this.poll(`broker ${id}'s old registration to expire`, zkSessionTimeoutMs * 4, async () =>
      (await this.registration(id)) === undefined ? true : undefined,
    );
    this.kept.delete(id);
    await broker.restart();
  }

  /**
   * Starts a stopped broker again at once, without waiting for its old
   * registration to expire (as an operator's restart would); rejects with the
   * broker's output when it does not start (e.g. it refuses a registration
   * its previous incarnation's session still holds).
   */
  async restartNow(id: number): Promise<void> {
    const broker = this.broker(id);
    this.keepOutput(id);
    if (broker.running) await broker.stop('SIGTERM');
    this.kept.delete(id);
    try {
      await broker.restart();
    } catch (err) {
      this.keepOutput(id);
      throw err;
    }
  }

  /** SIGSTOP by PID: the broker freezes (its ZooKeeper session expires when held past the session timeout). */
  pause(id: number): void {
    const pid = this.broker(id).pid;
    if (pid !== undefined) process.kill(pid, 'SIGSTOP');
  }

  /** SIGCONT by PID: a paused broker carries on. */
  resume(id: number): void {
    const pid = this.broker(id).pid;
    if (pid !== undefined && this.broker(id).running) process.kill(pid, 'SIGCONT');
  }

  /** Restarts every broker that is not running (a test that failed half-way leaves the next one a whole cluster). */
  async ensureAllRunning(): Promise<void> {
    await Promise.all(this.ids.filter((id) => !this.broker(id).running).map((id) => this.restart(id)));
  }

  /** A topic's description through the client (fresh metadata, offsets from the leaders). */
  describe(topic: string): Promise<TopicDescription> {
    return this.admin().admin().describeTopic(topic);
  }

  private async partition(topic: string, partition: number): Promise<PartitionDescription> {
    const d = await this.describe(topic);
    const p = d.partitions.find((x) => x.partition === partition);
    if (!p) throw new Error(`topic ${topic} has no partition ${partition}`);
    return p;
  }

  /** Polls the metadata until a live broker (not in `exclude`) leads the partition; returns its id. */
  async leaderOf(
    topic: string,
    partition: number,
    options: { exclude?: number[]; timeoutMs?: number } = {},
  ): Promise<number> {
    const exclude = options.exclude ?? [];
    return this.poll(
      `a live leader of ${topic}-${partition} (not ${exclude.join(',') || '-'})`,
      options.timeoutMs ?? waitTimeoutMsDefault,
      async () => {
        const p = await this.partition(topic, partition);
        return p.leader >= 0 && this.brokers.get(p.leader)?.running && !exclude.includes(p.leader)
          ? p.leader
          : undefined;
      },
    );
  }

  /** Polls until the partition's ISR has `size` members and a live leader; returns the description. */
  async waitForIsr(
    topic: string,
    partition: number,
    size: number,
    timeoutMs = waitTimeoutMsDefault,
  ): Promise<PartitionDescription> {
    return this.poll(`ISR of ${topic}-${partition} to have ${size} members`, timeoutMs, async () => {
      const p = await this.partition(topic, partition);
      return p.isr.length === size && this.brokers.get(p.leader)?.running ? p : undefined;
    });
  }

  /**
   * Every record of a partition from offset 0 up to its high watermark, read
   * by a consumer from the current leader.
   */
  /**
   * Every record of a partition up to its high watermark, read from its leader. `atLeast`: the
   * high watermark to wait for first (one past the last acknowledged offset): a leader that has
   * just taken over learns the followers' log ends on their next fetch, so its high watermark may
   * briefly lie below records acknowledged by the leader before it. Never reached: an error.
   */
  async readPartition(
    topic: string,
    partition: number,
    timeoutMs = waitTimeoutMsDefault,
    atLeast = 0,
  ): Promise<ConsumerRecord[]> {
    await this.leaderOf(topic, partition, { timeoutMs });
    const caughtUp = Date.now() + timeoutMs;
    let { highWatermark } = await this.partition(topic, partition);
    while (highWatermark < atLeast) {
      if (Date.now() > caughtUp) {
        throw new Error(
          `${topic}-${partition}: high watermark ${highWatermark} never reached ${atLeast} (acknowledged)`,
        );
      }
      await sleep(pollMs);
      ({ highWatermark } = await this.partition(topic, partition));
    }
    const sluice = this.client({ retries: 10 });
    const consumer: Consumer = sluice.consumer({ maxWaitMs: 200 });
    consumer.assign([{ topic, partition, offset: 0 }]);
    const out: ConsumerRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    try {
      while (out.length === 0 || (out.at(-1) as ConsumerRecord).offset + 1 < highWatermark) {
        if (highWatermark === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `read ${out.length} records of ${topic}-${partition} up to offset ${out.at(-1)?.offset ?? -1}, ` +
              `high watermark ${highWatermark}, within ${timeoutMs} ms`,
          );
        }
        out.push(...(await pollPatiently(consumer)));
      }
    } finally {
      await consumer.close();
      await sluice.close();
      this.clients.delete(sluice);
    }
    return out.filter((r) => r.offset < highWatermark);
  }

  /**
   * The records in a broker's own log of a partition, read from its segment
   * files on disk (so a follower's copy can be compared with the leader's).
   * Stops at a torn or unreadable tail.
   */
  storedRecords(id: number, topic: string, partition: number): StoredRecord[] {
    const dir = path.join(this.broker(id).dataDir, `${topic}-${partition}`);
    return storedRecordsIn(dir).map((r) => ({
      offset: r.offset,
      key: r.key?.toString() ?? null,
      value: r.value?.toString() ?? null,
    }));
  }

  /** Calls `probe` every 100 ms until it returns a value; errors count as "not yet". */
  /**
   * Creates a topic, retrying while the controller counts fewer live brokers than the replication
   * factor: on a loaded machine a running broker can be fenced for a moment (its probe answers came
   * late) and unfenced at its next answer, and Kafka refuses an assignment over fenced brokers too.
   * Any other error fails at once.
   */
  async createTopic(spec: CreateTopicOptions): Promise<void> {
    const deadline = Date.now() + waitTimeoutMsDefault;
    const admin = this.client().admin();
    for (;;) {
      try {
        await admin.createTopic(spec);
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== ErrorCode.InvalidReplicationFactor || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    }
  }

  poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    return pollUntil(what, timeoutMs, probe, pollMs);
  }

  /** Every broker's output so far (earlier incarnations included), for failure messages. */
  output(id: number): string {
    return (this.history.get(id) ?? '') + (this.kept.has(id) ? '' : this.broker(id).recentOutput);
  }

  /** Moves the current incarnation's output into the history (before a stop or restart replaces it). */
  private keepOutput(id: number): void {
    const b = this.brokers.get(id);
    if (!b || this.kept.has(id)) return;
    this.history.set(id, `${this.history.get(id) ?? ''}${b.recentOutput}\n--- broker ${id} stopped ---\n`);
    this.kept.add(id);
  }

  private saveLogs(): void {
    if (this.brokers.size === 0) return;
    const dir = this.logsDir;
    fs.mkdirSync(dir, { recursive: true });
    for (const id of this.ids) fs.writeFileSync(path.join(dir, `broker-${id}.log`), this.output(id));
  }

  /** Stops the clients, every broker (SIGKILL: nothing to keep), then ZooKeeper. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const clients = [...this.clients, ...(this.adminClient ? [this.adminClient] : [])];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
    await this.zkClient?.close().catch(() => undefined);
    try {
      this.saveLogs();
    } catch {
      // diagnostics only
    }
    await Promise.allSettled([...this.brokers.values()].map((b) => b.destroy()));
    await this.zookeeper.stop();
  }
}
