/**
 * What the client knows of the cluster: the brokers, a metadata cache per
 * topic, the connections to each broker, and the retry and reconnect rules.
 *
 * At most two connections per broker: the default one for every request,
 * and a 'fetch' one for the consumer's long-polling fetches. Responses come
 * in request order on a connection, so a fetch waiting up to maxWaitMs for
 * data would hold back every produce acknowledgement (and heartbeat, commit,
 * metadata answer) sent after it on the same socket; librdkafka likewise
 * fetches on a connection of its own.
 *
 * When an open connection breaks, the client emits `transportInterrupted`,
 * drops the metadata it learned through it, and reconnects in the background
 * with the failover policy's backoff (bounded attempts); the first new
 * connection emits `transportResumed`. Operations retry retriable failures
 * themselves with their own bounded backoff, refreshing metadata first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { MetadataResponse, PartitionMetadata } from '../protocol/native/messages.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { clientMetadataMaxAgeMs, clientRetryBackoffMsMax, clientSuspectBrokerMs } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { addressText, type BrokerAddress, type BrokerList, reconnectDelayMs } from './brokers.js';
import { Connection } from './connection.js';
import { closedError, isRetriableError, markRetriable, wireError } from './errors.js';
import { checkMetadata, metadataGap } from './metadata.js';
import type { TlsConnectOptions } from './tls.js';
import type { ClientSaslOptions } from './types.js';

export interface ClusterOptions {
  brokers: BrokerList;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxInFlight: number;
  retries: number;
  retryBackoffMs: number;
  /** TLS on every broker connection (tls.ts); absent: plaintext. */
  tls?: TlsConnectOptions;
  emit: (event: string, payload: unknown) => void;
  /** SASL credentials every broker connection authenticates with. */
  sasl?: ClientSaslOptions;
}

/**
 * Which of a broker's connections a request goes on: 'fetch' for long-polling fetches (they may
 * wait maxWaitMs for data), 'default' for everything else.
 */
export type ConnectionPurpose = 'default' | 'fetch';

/** The connection map's key of (broker address, purpose). */
const fetchSuffix = '#fetch';
function connectionKey(address: string, purpose: ConnectionPurpose): string {
  return purpose === 'default' ? address : `${address}${fetchSuffix}`;
}

export interface TopicInfo {
  name: string;
  /** Sorted by partition number. */
  partitions: PartitionMetadata[];
  fetchedAt: number;
}

export interface RetryOptions {
  retries?: number;
  /** Extra condition on a retriable error (e.g. "not yet sent" for a produce). */
  retryIf?: (err: unknown) => boolean;
}

/**
 * A partition's key for its leader epochs: by topic id when the broker gives one, so a topic deleted
 * and created again (epochs from 0 again) is another topic.
 */
function epochKey(t: { name: string; topicId?: string }, partition: number): string {
  return topicPartitionKey(t.topicId ?? t.name, partition);
}

export class Cluster {
  readonly clientId: string;
  readonly retries: number;
  readonly requestTimeoutMs: number;
  private readonly options: ClusterOptions;
  private readonly bootstrap: BrokerAddress[];
  private readonly brokersById = new Map<number, BrokerAddress>();
  /** Keyed by connectionKey(): at most one per (broker, purpose), so at most two per broker. */
  private readonly connections = new Map<string, Connection>();
  /**
   * The connection brokerConnection() last returned per broker id, default and fetch, with the address
   * it was for: openConnection() hands it out without a lookup or a promise while it is open and the
   * metadata still names that address (a producer and a consumer ask once per request).
   */
  private readonly lastByNode = {
    default: new Map<number, { address: BrokerAddress; conn: Connection }>(),
    fetch: new Map<number, { address: BrokerAddress; conn: Connection }>(),
  };
  /** Broker address -> until when it is tried last for any-broker requests (its connection broke). */
  private readonly suspectUntil = new Map<string, number>();
  private readonly topics = new Map<string, TopicInfo>();
  /**
   * The highest leader epoch seen per partition (topic-partition key). A broker cut off from ZooKeeper
   * still answers metadata naming itself leader at an older epoch: such an answer is not believed
   * (bounded: one number per partition of the topics this client uses).
   */
  private readonly leaderEpochs = new Map<string, number>();
  private controllerId = -1;
  private interrupted = false;
  private reconnecting = false;
  private closed = false;
  private readonly sleeper = new AbortController();

  /** The SASL credentials of every connection (queue consumers open their own). */
  get sasl(): ClientSaslOptions | undefined {
    return this.options.sasl;
  }

  constructor(options: ClusterOptions) {
    this.options = options;
    this.clientId = options.clientId;
    this.retries = options.retries;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.bootstrap = [...options.brokers.brokers];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The TLS options of this client's broker connections (undefined: plaintext). */
  get tls(): TlsConnectOptions | undefined {
    return this.options.tls;
  }

  get isInterrupted(): boolean {
    return this.interrupted;
  }

  /** Candidate addresses for "any broker": known brokers first, then the bootstrap list. */
  private candidates(): BrokerAddress[] {
    const seen = new Set<string>();
    const out: BrokerAddress[] = [];
    for (const a of [...this.brokersById.values(), ...this.bootstrap]) {
      const key = addressText(a);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(a);
      }
    }
    if (this.options.brokers.reconnect.randomize) {
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [out[i], out[j]] = [out[j] as BrokerAddress, out[i] as BrokerAddress];
      }
    }
    return out;
  }

  /** The open connection to `address` for `purpose`, opening it when needed. */
  async connectionTo(address: BrokerAddress, purpose: ConnectionPurpose = 'default'): Promise<Connection> {
    if (this.closed) throw closedError('the client');
    const broker = addressText(address);
    const key = connectionKey(broker, purpose);
    let conn = this.connections.get(key);
    if (!conn || conn.isClosed) {
      conn = new Connection({
        host: address.host,
        port: address.port,
        clientId: this.clientId,
        connectTimeoutMs: this.options.connectTimeoutMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
        maxInFlight: this.options.maxInFlight,
        ...(this.options.tls ? { tls: this.options.tls } : {}),
        onClose: (err) => this.onConnectionLost(key, broker, err),
        ...(this.options.sasl ? { sasl: this.options.sasl } : {}),
      });
      this.connections.set(key, conn);
    }
    const wasOpen = conn.isOpen;
    try {
      await conn.connect();
    } catch (err) {
      if (this.connections.get(key) === conn) this.connections.delete(key);
      throw err;
    }
    if (!wasOpen && this.interrupted && !this.closed) {
      this.interrupted = false;
      this.options.emit('transportResumed', { broker });
    }
    return conn;
  }

  /** True while a broker whose connection recently broke (or timed out) is passed over for "any broker" requests. */
  private isSuspect(key: string): boolean {
    const until = this.suspectUntil.get(key);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.suspectUntil.delete(key);
    return false;
  }

  /**
   * A connection to any reachable broker, for requests any broker answers
   * (metadata). Brokers whose connection recently broke or timed out come
   * last: a paused or overloaded broker still accepts TCP connections, and
   * asking it first would cost a whole request timeout every time.
   */
  async anyConnection(): Promise<Connection> {
    for (const [key, conn] of this.connections) {
      // a fetch connection may be waiting on a long poll: other requests go on the default one
      if (conn.isOpen && !key.endsWith(fetchSuffix) && !this.isSuspect(key)) return conn;
    }
    let last: unknown;
    const causes: string[] = [];
    const ordered = this.candidates();
    // the suspects last, the one distrusted most recently last of all
    const until = (a: BrokerAddress) => this.suspectUntil.get(addressText(a)) ?? 0;
    const candidates = [
      ...ordered.filter((a) => !this.isSuspect(addressText(a))),
      ...ordered.filter((a) => this.isSuspect(addressText(a))).sort((a, b) => until(a) - until(b)),
    ];
    for (const address of candidates) {
      try {
        return await this.connectionTo(address);
      } catch (err) {
        if (this.closed) throw err;
        // refused credentials are not a broker being unreachable: every broker would refuse them
        if (
          isSluiceError(err, ErrorCode.SaslAuthenticationFailed) ||
          isSluiceError(err, ErrorCode.UnsupportedSaslMechanism)
        ) {
          throw err;
        }
        last = err;
        if (err instanceof Error && !causes.includes(err.message)) causes.push(err.message);
      }
    }
    // a TLS failure is the clearer answer (an untrusted certificate is no unreachable broker)
    if (last instanceof SluiceError && last.code === ErrorCode.TlsFailed) throw last;
    const list = this.candidates().map(addressText).join(', ');
    // each broker's cause (DNS, refused, timed out), each named once: the messages name their address
    const why = causes.length > 0 ? `: ${causes.join('; ')}` : ` (tried ${list})`;
    throw markRetriable(new SluiceError(ErrorCode.BrokerUnreachable, `no broker reachable${why}`, { cause: last }));
  }

  /** The connection to broker `nodeId` for `purpose` ('fetch': long-polling fetches only). */
  async brokerConnection(nodeId: number, purpose: ConnectionPurpose = 'default'): Promise<Connection> {
    let address = this.brokersById.get(nodeId);
    if (!address) {
      await this.refreshMetadata([]);
      address = this.brokersById.get(nodeId);
    }
    if (!address)
      throw markRetriable(new SluiceError(ErrorCode.BrokerUnreachable, `broker ${nodeId} is not in the metadata`));
    const conn = await this.connectionTo(address, purpose);
    this.lastByNode[purpose].set(nodeId, { address, conn });
    return conn;
  }

  /**
   * What brokerConnection(nodeId, purpose) would answer at once, without a
   * promise: its last connection while it is open and the metadata still
   * names the broker at the same address; else undefined (ask brokerConnection).
   */
  openConnection(nodeId: number, purpose: ConnectionPurpose = 'default'): Connection | undefined {
    const last = this.lastByNode[purpose].get(nodeId);
    if (last === undefined) return undefined;
    if (!this.closed && last.conn.isOpen && this.brokersById.get(nodeId) === last.address) return last.conn;
    this.lastByNode[purpose].delete(nodeId);
    return undefined;
  }

  /** The connections open or opening to `address`: at most 2 (default and fetch). */
  connectionsTo(address: BrokerAddress): Connection[] {
    const broker = addressText(address);
    const out: Connection[] = [];
    for (const purpose of ['default', 'fetch'] as const) {
      const conn = this.connections.get(connectionKey(broker, purpose));
      if (conn && !conn.isClosed) out.push(conn);
    }
    return out;
  }

  /** The controller's connection, or any broker's when no controller is known. */
  async controllerConnection(): Promise<Connection> {
    if (this.controllerId < 0) await this.refreshMetadata([]);
    if (this.controllerId >= 0 && this.brokersById.has(this.controllerId))
      return this.brokerConnection(this.controllerId);
    return this.anyConnection();
  }

  /**
   * Fetches metadata (null: every topic) and updates the cache. The answer is
   * checked first (metadata.ts): one without brokers is refused (retriable)
   * and its broker asked last for a while; a topic with incomplete partition
   * metadata comes back with LEADER_NOT_AVAILABLE and is not cached.
   */
  async refreshMetadata(topics: string[] | null, allowAutoTopicCreation = false): Promise<MetadataResponse> {
    const conn = await this.anyConnection();
    // checked field by field before it is believed (metadata.ts)
    const answer: unknown = await conn.request(ApiKey.Metadata, { topics, allowAutoTopicCreation });
    let res: MetadataResponse;
    try {
      res = checkMetadata(answer, conn.address);
    } catch (err) {
      if (isRetriableError(err)) this.suspectUntil.set(conn.address, Date.now() + clientSuspectBrokerMs);
      throw err;
    }
    this.brokersById.clear();
    for (const b of res.brokers) this.brokersById.set(b.nodeId, { host: b.host, port: b.port });
    this.controllerId = res.controllerId;
    const now = Date.now();
    for (const t of res.topics) {
      if (t.errorCode === 0 && !this.staleLeadership(t, conn.address)) {
        this.topics.set(t.name, { name: t.name, partitions: t.partitions, fetchedAt: now });
      } else this.topics.delete(t.name);
    }
    return res;
  }

  /**
   * True when the answer names a partition's leader at an older epoch than one seen before (the
   * answering broker has not learned of a newer election: it may be cut off from ZooKeeper while
   * it still leads in its own view). Its broker is then asked last for metadata for a while.
   */
  private staleLeadership(t: MetadataResponse['topics'][number], address: string): boolean {
    let stale = false;
    for (const p of t.partitions) {
      if (p.errorCode !== 0 || !(p.leaderEpoch >= 0)) continue;
      const key = epochKey(t, p.partition);
      const known = this.leaderEpochs.get(key) ?? -1;
      if (p.leaderEpoch < known) stale = true;
      else this.leaderEpochs.set(key, p.leaderEpoch);
    }
    if (stale) this.distrust(address);
    return stale;
  }

  /**
   * Asks `address` last for metadata for a while: its answers (or its leadership) could not be
   * trusted — a produce it led failed with a replication error, or it named an older leader.
   */
  distrust(address: string): void {
    this.suspectUntil.set(address, Date.now() + clientSuspectBrokerMs);
  }

  /**
   * A topic's metadata, from the cache when fresh: always a complete partition
   * list. Throws UnknownPartition (retriable) for a topic the cluster does not
   * know, and a retriable NotLeader while its metadata has gaps.
   */
  async topic(name: string, options: { allowAutoTopicCreation?: boolean; force?: boolean } = {}): Promise<TopicInfo> {
    const cached = options.force ? undefined : this.freshTopic(name);
    if (cached) return cached;
    const fetchedAt = Date.now();
    const res = await this.refreshMetadata([name], options.allowAutoTopicCreation ?? false);
    const t = res.topics.find((x) => x.name === name);
    if (!t) throw metadataGap(`metadata for topic '${name}' (missing from the answer)`);
    if (t.errorCode !== 0) throw wireError(t.errorCode, `metadata for topic '${name}'`, t.errorMessage);
    if (t.partitions.some((p) => p.leaderEpoch < (this.leaderEpochs.get(epochKey(t, p.partition)) ?? -1))) {
      // an answer naming an older leader than one seen before (its broker is asked last next time)
      throw metadataGap(`metadata for topic '${name}' (an older leader epoch than already seen)`);
    }
    // from this answer, not from the cache: a concurrent invalidate() (a broken connection) may have emptied it
    return { name, partitions: t.partitions, fetchedAt };
  }

  /**
   * The broker id leading (topic, partition). Throws a retriable NotLeader
   * when there is none or it is not among the brokers the metadata names.
   */
  async leaderOf(topic: string, partition: number): Promise<number> {
    return this.leaderIn(await this.topic(topic), partition);
  }

  /**
   * The cached metadata of topic `name` while it is fresh (what topic() answers without a request), else
   * undefined (and once the client is closed: topic() says so).
   */
  freshTopic(name: string): TopicInfo | undefined {
    if (this.closed) return undefined;
    const cached = this.topics.get(name);
    return cached && Date.now() - cached.fetchedAt < clientMetadataMaxAgeMs ? cached : undefined;
  }

  /**
   * leaderOf() without a promise when the topic's metadata is fresh (it
   * throws as leaderOf() rejects); undefined when it is not (ask leaderOf).
   */
  freshLeaderOf(topic: string, partition: number): number | undefined {
    const t = this.freshTopic(topic);
    return t === undefined ? undefined : this.leaderIn(t, partition);
  }

  private leaderIn(t: TopicInfo, partition: number): number {
    const topic = t.name;
    // partitions are listed in order, so the index finds them (a producer asks once per batch, a consumer of
    // 100,000 partitions once per partition)
    const at = t.partitions[partition];
    const p = at?.partition === partition ? at : t.partitions.find((x) => x.partition === partition);
    if (!p) {
      throw new SluiceError(
        ErrorCode.UnknownPartition,
        `topic '${topic}' has no partition ${partition} (it has ${t.partitions.length})`,
      );
    }
    if (p.errorCode !== 0) throw wireError(p.errorCode, `partition ${topic}-${partition}`, p.errorMessage);
    if (p.leader < 0) throw wireError(WireError.LEADER_NOT_AVAILABLE, `partition ${topic}-${partition}`);
    if (!this.brokersById.has(p.leader)) {
      // the broker list came from a later answer than this topic's (or lacks the leader): look both up again
      this.topics.delete(topic);
      throw metadataGap(`partition ${topic}-${partition}: leader ${p.leader} is not among the known brokers`);
    }
    return p.leader;
  }

  invalidate(topic?: string): void {
    if (topic === undefined) this.topics.clear();
    else this.topics.delete(topic);
  }

  forget(topic: string): void {
    this.topics.delete(topic);
  }

  backoffMs(attempt: number): number {
    const base = this.options.retryBackoffMs * 2 ** Math.min(attempt, 20);
    return Math.min(clientRetryBackoffMsMax, base) * (0.8 + Math.random() * 0.4);
  }

  /** Waits `ms`, ending early (with ClientClosed) when the client closes. */
  async pause(ms: number): Promise<void> {
    if (this.closed) throw closedError('the client');
    try {
      await sleep(ms, undefined, { signal: this.sleeper.signal });
    } catch {
      throw closedError('the client');
    }
  }

  /**
   * Runs `fn` and retries it on retriable errors, refreshing metadata between
   * attempts: at most `retries` retries, each after an exponential backoff.
   */
  async retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
    const retries = options.retries ?? this.retries;
    const timeoutMs = this.options.brokers.reconnect.timeoutMs;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw closedError('the client');
      try {
        return await fn(attempt);
      } catch (err) {
        const retriable = isRetriableError(err) && (options.retryIf?.(err) ?? true);
        if (!retriable || attempt >= retries || this.closed || Date.now() >= deadline) throw err;
        this.invalidate();
        await this.pause(this.backoffMs(attempt));
      }
    }
  }

  private onConnectionLost(key: string, broker: string, err: Error): void {
    this.connections.delete(key);
    this.suspectUntil.set(broker, Date.now() + clientSuspectBrokerMs);
    this.invalidate();
    if (this.closed) return;
    if (!this.interrupted) {
      this.interrupted = true;
      this.options.emit('transportInterrupted', { broker, error: err });
    }
    void this.reconnectLoop();
  }

  /** Background reconnection with the failover policy's backoff; bounded attempts. */
  private async reconnectLoop(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    const policy = this.options.brokers.reconnect;
    try {
      for (let attempt = 0; attempt < policy.maxReconnectAttempts && this.interrupted && !this.closed; attempt++) {
        await this.pause(reconnectDelayMs(policy, attempt));
        try {
          await this.refreshMetadata([]);
          return;
        } catch {
          // next attempt
        }
      }
    } catch {
      // closed while waiting
    } finally {
      this.reconnecting = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sleeper.abort();
    for (const conn of this.connections.values()) conn.close();
    this.connections.clear();
  }
}
