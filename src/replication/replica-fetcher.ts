/**
 * A replica fetcher: follows every partition this broker replicates from one
 * leader, over one connection (Kafka's ReplicaFetcherThread).
 *
 * Each partition first truncates (Kafka's KIP-101 idea): it asks the leader
 * where its own latest leader epoch ends (OffsetForLeaderEpoch) and cuts its
 * log there, so records an old leader wrote but never got replicated cannot
 * survive next to the new leader's. Then it fetches from its log end: one
 * long-polled Fetch for all partitions, the leader's bytes appended as they
 * are (offsets and epoch stamps kept), and the leader's high watermark taken
 * over. The offset it fetches at is what tells the leader how far it got.
 *
 * The loop is bounded: each pass either long-polls (at most
 * replica.fetch.wait.max.ms) or backs off after an error, and it ends when the
 * fetcher has no partitions left or is closed.
 */

import { Connection } from '../client/connection.js';
import type { TlsConnectOptions } from '../client/tls.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { interBrokerSaslOption } from '../config/inter-broker-sasl.js';
import type { BrokerEndpoint } from '../coordination/coordinator.js';
import { WireError, wireErrorName } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { FetchRequest } from '../protocol/native/messages.js';
import type { OffsetForLeaderEpochRequest } from '../protocol/native/replication-messages.js';
import { ErrorCode, errorCodeOfWire, SluiceError } from '../shared/errors.js';
import { fetchWaitMsMax, replicaFetchRequestTimeoutMs, replicaFetchRetryMsMin } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import type { PartitionReplica } from './partition-replica.js';
import type { ReplicationThrottle } from './replication-throttle.js';

const keyOf = (replica: PartitionReplica): string => topicPartitionKey(replica.topic, replica.partition);

type FetchState = 'truncating' | 'fetching' | 'fenced';

interface Followed {
  replica: PartitionReplica;
  /** The leader epoch this follower acts under (requests carry it, the leader checks it). */
  epoch: number;
  state: FetchState;
  /** Not fetched while its log refuses writes for a full disk (logged once each way). */
  diskFull?: boolean;
  /** Not fetched before this time: the leader holds another topic of this name for now (UNKNOWN_TOPIC_ID). */
  retryAtMs?: number;
}

export interface ReplicaFetcherOptions {
  brokerId: number;
  leaderId: number;
  endpoint: () => BrokerEndpoint | undefined;
  config: BrokerConfig;
  logger: Logger;
  /** Called when the loop ends because no partition is left. */
  onIdle: () => void;
  /** The broker's reassignment throttle (replication-throttle.ts); absent: nothing is throttled. */
  throttle?: ReplicationThrottle;
  /** A follower cut corrupt records to fetch them again (a metric). */
  onRepaired?: () => void;
  /** TLS to the leader (inter.broker.security.protocol); absent: plaintext. */
  tls?: TlsConnectOptions;
}

/** A partition as the leader's fetch session holds it: what the follower last named for it. */
interface SessionEntry {
  topic: string;
  topicId: string | undefined;
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  partitionMaxBytes: number;
  logStartOffset: number;
  lastFetchedEpoch: number;
}

/**
 * The fetch session this follower holds with its leader (fetch-sessions.ts): its id, the epoch the
 * next incremental fetch carries, and the partitions as the leader knows them. It belongs to one
 * connection: a new connection starts with a full fetch.
 */
interface FollowerSession {
  id: number;
  epoch: number;
  connection: Connection;
  partitions: Map<string, SessionEntry>;
}

const sessionEntryKey = (e: { topic: string; topicId: string | undefined; partition: number }): string =>
  `${e.topic}\u0000${e.topicId ?? ''}\u0000${e.partition}`;

const sameEntry = (a: SessionEntry, b: SessionEntry): boolean =>
  a.fetchOffset === b.fetchOffset &&
  a.currentLeaderEpoch === b.currentLeaderEpoch &&
  a.partitionMaxBytes === b.partitionMaxBytes &&
  a.logStartOffset === b.logStartOffset &&
  a.lastFetchedEpoch === b.lastFetchedEpoch;

/** Longest sleep of a fetcher whose partitions all wait for the throttle (it then looks again). */
const throttleWaitMsMax = 1_000;

/**
 * Within a session a fetch is built from the partitions that changed only (the dirty set); at least this
 * often it walks them all instead, which catches what changes without the fetcher's knowing (a full disk,
 * corrupt records to repair, the follower's own retention moving its log start, a new throttle).
 */
const fullPassEveryMs = 1_000;

/** What a fetch names, forgets and holds: built from every partition (a full pass) or from the changed ones. */
interface FetchPlan {
  session: FollowerSession | undefined;
  desired: Map<string, SessionEntry>;
  named: SessionEntry[];
  forgotten: Map<string, { name: string; topicId?: string; partitions: number[] }>;
  /** A partition still waits to truncate: the poll is short. */
  waiting: boolean;
}

const forget = (forgotten: FetchPlan['forgotten'], known: SessionEntry): void => {
  const topicKey = `${known.topic}\u0000${known.topicId ?? ''}`;
  let t = forgotten.get(topicKey);
  if (!t) {
    t = { name: known.topic, ...(known.topicId !== undefined ? { topicId: known.topicId } : {}), partitions: [] };
    forgotten.set(topicKey, t);
  }
  t.partitions.push(known.partition);
};

export class ReplicaFetcher {
  private readonly followed = new Map<string, Followed>();
  private connection: Connection | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  /** A fetch (long poll) is under way on the connection. */
  private fetchInFlight = false;
  /** add() cut the long poll under way short (see there): the failure it causes is no error. */
  private interrupted = false;
  /**
   * How long the next fetch long-polls: replica.fetch.wait.max.ms, doubled after each answer that
   * brought nothing (an idle leader), up to idleFetchWaitMs (replica.lag.time.max.ms); back to replica.fetch.wait.max.ms as
   * soon as records come. An append or a high watermark move wakes the poll at once on the leader,
   * so a longer poll delays no replication: it only makes an idle follower ask less often (issue 20
   * item 4: every round costs both brokers a pass over every partition followed).
   */
  private waitMs: number | undefined;
  /** The fetch session with the leader (absent: the next fetch is a full one, which asks for one). */
  private session: FollowerSession | undefined;
  /** An endPolls request was sent for the fetch under way. */
  private pollCut = false;
  /** Partitions added again since the last fetch was built: the session names them whatever the leader holds. */
  private readonly renamed = new Set<string>();
  /** Full fetches and incremental fetches sent, and sessions the leader refused (for tests and metrics). */
  readonly fetchCounts = { full: 0, incremental: 0, sessionErrors: 0 };
  /**
   * Partitions (topicPartitionKey) whose position may have moved since the last fetch was built: appended
   * to, truncated, their log start moved, removed. Within a session the next fetch looks at these only
   * (KIP-227: a pass is O(changed), not O(partitions)). Bounded by the partitions followed and removed
   * since the last pass (each pass empties it).
   */
  private readonly dirty = new Set<string>();
  /**
   * The next pass walks every partition: something changed that the dirty set does not carry (a partition
   * added, one that is truncating, refused, waiting to retry, throttled or on a full disk).
   */
  private fullPass = true;
  /** When the last full pass built a fetch (an incremental pass is built within fullPassEveryMs of it). */
  private fullPassAtMs = 0;
  /** The partitions the session holds, by topicPartitionKey, as followed when last named: answers are matched to them. */
  private sent = new Map<string, Followed>();
  /** Topic names by id of the partitions the session holds (an answer by id is matched by it). */
  private namesById = new Map<string, string>();
  /** Passes built from the dirty set alone (for tests and metrics). */
  readonly passCounts = { full: 0, incremental: 0 };

  constructor(private readonly options: ReplicaFetcherOptions) {}

  add(replica: PartitionReplica): void {
    this.followed.set(keyOf(replica), { replica, epoch: replica.leaderEpoch, state: 'truncating' });
    // named in full on the next fetch of the session, so its answer (high watermark) reaches the new entry
    this.renamed.add(sessionEntryKey(replica));
    this.fullPass = true;
    this.wake?.();
    // a partition added (a new leader, or a new leader epoch) must not wait for the long poll under way
    // for the others, which may wait replica.fetch.wait.max.ms when nothing is written to them: within a
    // fetch session the leader is asked to end the poll (endPolls, on the same connection: the session
    // and the partitions it holds stay); without one the poll is cut short by closing the connection
    if (
      this.fetchInFlight &&
      this.session &&
      this.session.connection === this.connection &&
      !this.connection.isClosed
    ) {
      if (!this.pollCut) {
        this.pollCut = true;
        this.connection
          .request(ApiKey.Fetch, {
            replicaId: this.options.brokerId,
            sessionId: this.session.id,
            endPolls: true,
            topics: [],
          })
          .catch(() => {
            // the connection failed: the fetch under way fails with it and the loop starts again
          });
      }
    } else if (this.fetchInFlight && this.connection && !this.interrupted) {
      this.interrupted = true;
      this.connection.close();
    }
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * The entry a response is for, when it is still the one followed: add() may
   * have replaced it (a new leader epoch) while the request was in flight,
   * and an answer to the old epoch must not move the new entry (a stale
   * FENCED_LEADER_EPOCH would park it for good; stale bytes must not be
   * appended after the new epoch's truncation).
   */
  private current(sent: ReadonlyMap<string, Followed>, topic: string, partition: number): Followed | undefined {
    const key = topicPartitionKey(topic, partition);
    const f = sent.get(key);
    return f !== undefined && this.followed.get(key) === f ? f : undefined;
  }

  remove(replica: PartitionReplica): void {
    const entry = this.followed.get(keyOf(replica));
    if (entry?.replica === replica) {
      this.followed.delete(keyOf(replica));
      this.renamed.delete(sessionEntryKey(replica));
      // forgotten by the session on the next fetch
      this.dirty.add(keyOf(replica));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.followed.clear();
    this.wake?.();
    this.connection?.close();
    await this.running;
  }

  /** Runs one fetch with `fetchInFlight` set; a fetch answered clears `interrupted` (a cut that came too late to stop it). */
  private async whileFetching(fetch: () => Promise<void>): Promise<void> {
    this.fetchInFlight = true;
    try {
      await fetch();
      // answered before the cut took effect: the next pass reconnects (connect() sees it closed)
      this.interrupted = false;
    } finally {
      this.fetchInFlight = false;
    }
  }

  private async loop(): Promise<void> {
    const log = this.options.logger.child({ leader: this.options.leaderId });
    const backoffMs = Math.max(this.options.config.int('replica.fetch.backoff.ms'), replicaFetchRetryMsMin);
    const partitionRetryMs = Math.min(backoffMs, replicaFetchRetryMsMin * 2);
    while (!this.closed && this.followed.size > 0) {
      try {
        const connection = await this.connect();
        const session = this.session;
        if (session?.connection === connection && !this.fullPass && Date.now() - this.fullPassAtMs < fullPassEveryMs) {
          // within a session, nothing changed but what the dirty set names: look at those only
          const plan = this.incrementalPlan(session);
          if (plan) {
            this.passCounts.incremental++;
            await this.whileFetching(() => this.send(connection, plan));
            continue;
          }
        }
        // A follower whose disk is full stops fetching (the leader's lag rule then drops it from the ISR)
        // instead of fetching bytes it cannot write; its log takes writes again on its own
        // (log.dir.full.retry.ms) and fetching resumes with it.
        for (const f of this.followed.values()) if (f.replica.repairFrom !== undefined) await this.repair(f, log);
        const writable = [...this.followed.values()].filter(
          (f) => this.writable(f, log) && f.replica.repairFrom === undefined,
        );
        const truncating = writable.filter((f) => f.state === 'truncating');
        if (truncating.length > 0) await this.truncate(connection, truncating);
        const throttle = this.options.throttle;
        const allowed = throttle?.allowance() ?? Number.POSITIVE_INFINITY;
        const now = Date.now();
        const fetching = writable.filter(
          (f) =>
            f.state === 'fetching' &&
            (f.retryAtMs ?? 0) <= now &&
            (allowed > 0 || !throttle?.isThrottled(keyOf(f.replica))),
        );
        if (fetching.length === 0 && throttle && writable.some((f) => f.state === 'fetching')) {
          // every partition to fetch is a throttled one and the bucket is empty
          await this.pause(Math.min(Math.max(throttle.waitMs(), 1), throttleWaitMsMax));
          continue;
        }
        if (fetching.length === 0) {
          // every partition waits for the leader (or us) to learn the new leadership: that takes milliseconds
          await this.pause(partitionRetryMs);
          continue;
        }
        // the next pass may be built from the dirty set alone when nothing here needs a look every pass
        this.fullPass = !(
          writable.length === this.followed.size &&
          !writable.some(
            (f) =>
              f.state === 'truncating' ||
              (f.retryAtMs ?? 0) > now ||
              (throttle?.isThrottled(keyOf(f.replica)) ?? false),
          )
        );
        this.fullPassAtMs = now;
        this.passCounts.full++;
        await this.whileFetching(() => this.fetch(connection, fetching));
      } catch (err) {
        if (this.closed) break;
        if (this.interrupted) {
          this.interrupted = false;
          this.connection?.close();
          this.connection = undefined;
          continue;
        }
        log.warn({ err: (err as Error).message }, 'replica fetch failed; retrying');
        this.connection?.close();
        this.connection = undefined;
        await this.pause(backoffMs);
      }
    }
    this.connection?.close();
    this.connection = undefined;
    if (!this.closed) this.options.onIdle();
  }

  /**
   * A follower whose log holds corrupt records (PartitionReplica.repairFrom) is not fetched for until
   * the leader has taken it out of the ISR (the lag rule); then its log is cut where the corrupt
   * records begin and fetched again from there (as after a divergence: truncating, then fetching).
   */
  private async repair(f: Followed, log: Logger): Promise<void> {
    const from = f.replica.repairFrom;
    if (from === undefined || f.replica.isr.includes(this.options.brokerId)) return;
    const replicaLog = f.replica.log;
    const to = Math.max(Math.min(from, replicaLog.logEndOffset), replicaLog.logStartOffset);
    await replicaLog.truncateTo(to);
    f.replica.capHighWatermark();
    f.replica.repairFrom = undefined;
    f.state = 'truncating';
    this.options.onRepaired?.();
    log.info(
      { partition: f.replica.name, from: to, isr: f.replica.isr },
      'follower cut its corrupt records and fetches them again from its leader',
    );
  }

  /** False while the partition's log refuses writes for a full disk; logs each change once. */
  private writable(f: Followed, log: Logger): boolean {
    const full = f.replica.log.diskFull;
    if (full !== (f.diskFull ?? false)) {
      f.diskFull = full;
      if (full) log.warn({ partition: f.replica.name }, 'follower stops fetching: its disk is full');
      else log.info({ partition: f.replica.name }, 'follower fetches again: its disk has space');
    }
    return !full;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async connect(): Promise<Connection> {
    if (this.connection && !this.connection.isClosed) {
      await this.connection.connect();
      return this.connection;
    }
    const endpoint = this.options.endpoint();
    if (!endpoint)
      throw new SluiceError(ErrorCode.BrokerUnreachable, `broker ${this.options.leaderId} is not registered`);
    this.connection = new Connection({
      host: endpoint.host,
      port: endpoint.port,
      clientId: `replica-fetcher-${this.options.brokerId}`,
      requestTimeoutMs: replicaFetchRequestTimeoutMs,
      // the fetch, and an endPolls request that cuts its long poll short (add())
      maxInFlight: 2,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...interBrokerSaslOption(this.options.config),
    });
    await this.connection.connect();
    return this.connection;
  }

  /** OffsetForLeaderEpoch for each partition, then truncation to where the leader's history agrees. */
  private async truncate(connection: Connection, chosen: Followed[]): Promise<void> {
    const entries = chosen.filter((f) => this.followed.get(keyOf(f.replica)) === f);
    if (entries.length === 0) return;
    const byTopic = new Map<string, OffsetForLeaderEpochRequest['topics'][number]['partitions']>();
    for (const f of entries) {
      const list = byTopic.get(f.replica.topic) ?? [];
      list.push({
        partition: f.replica.partition,
        currentLeaderEpoch: f.epoch,
        leaderEpoch: f.replica.log.latestEpoch,
      });
      byTopic.set(f.replica.topic, list);
    }
    const request: OffsetForLeaderEpochRequest = {
      replicaId: this.options.brokerId,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    };
    const sent = new Map(entries.map((f) => [keyOf(f.replica), f]));
    const response = await connection.request(ApiKey.OffsetForLeaderEpoch, request);
    for (const t of response.topics) {
      for (const p of t.partitions) {
        const f = this.current(sent, t.name, p.partition);
        if (f?.state !== 'truncating') continue;
        if (p.errorCode !== 0) {
          this.onPartitionError(f, p.errorCode, p.errorMessage);
          continue;
        }
        const log = f.replica.log;
        let target: number;
        if (p.leaderEpoch < 0) {
          // the leader knows no epoch at or before ours: keep only what is known to be committed
          target = Math.min(f.replica.highWatermark, log.logEndOffset);
        } else if (p.leaderEpoch === log.latestEpoch) {
          target = Math.min(p.endOffset, log.logEndOffset);
        } else {
          // our latest epoch is unknown to the leader: cut where the epoch the leader does know ends, on both sides
          const ours = log.endOffsetForEpoch(p.leaderEpoch)?.endOffset ?? log.logEndOffset;
          target = Math.min(p.endOffset, ours, log.logEndOffset);
        }
        if (target < log.logEndOffset) {
          this.options.logger.info(
            { topic: t.name, partition: p.partition, from: log.logEndOffset, to: target, leaderEpoch: p.leaderEpoch },
            'truncating diverged records',
          );
          await log.truncateTo(target);
          // the replica may have become leader (or been dropped) while the truncation ran
          if (this.current(sent, t.name, p.partition) !== f) continue;
          f.replica.capHighWatermark();
        }
        f.state = 'fetching';
      }
    }
  }

  /**
   * The longest an idle follower long-polls: replica.lag.time.max.ms (the leader takes a follower
   * whose poll it holds at its log end for caught up, PartitionReplica.followerPollHeld, and a
   * follower that vanished without closing its connection still leaves the ISR within twice the lag
   * time), at most fetchWaitMsMax (what a leader allows), at least replica.fetch.wait.max.ms.
   */
  private idleFetchWaitMs(): number {
    const configured = this.options.config.int('replica.fetch.wait.max.ms');
    const lagMaxMs = this.options.config.int('replica.lag.time.max.ms');
    return Math.max(configured, Math.min(lagMaxMs, fetchWaitMsMax));
  }

  private async fetch(connection: Connection, entries: Followed[]): Promise<void> {
    // a partition still waiting to truncate (its leader may not know it leads yet) is retried after a
    // short poll, not after an idle one's
    const waiting = [...this.followed.values()].some((f) => f.state === 'truncating');
    const maxBytes = this.options.config.int('replica.fetch.max.bytes');
    const throttle = this.options.throttle;
    const throttled = (f: Followed): boolean => throttle?.isThrottled(keyOf(f.replica)) ?? false;
    const allowance = throttle?.allowance() ?? Number.POSITIVE_INFINITY;
    // Only entries still followed from this leader, as they are now: the caller chose `entries` before
    // awaiting (a truncation round trip), and a partition that meanwhile moved to another leader may
    // hold that leader's newer records. Claiming them here, under the old epoch, would let this leader,
    // if it is a stale one that has not yet heard of the new epoch, count them as replicated and
    // acknowledge records that are then lost (found with a SIGSTOPped leader that resumed).
    const live = entries.filter((f) => this.followed.get(keyOf(f.replica)) === f && f.state === 'fetching');
    if (live.length === 0) {
      this.fullPass = true;
      return;
    }
    // every partition is looked at here: what changed before now is in this fetch
    this.dirty.clear();
    const desired = new Map<string, SessionEntry>();
    for (const f of live) {
      const entry: SessionEntry = {
        topic: f.replica.topic,
        topicId: f.replica.topicId,
        partition: f.replica.partition,
        fetchOffset: f.replica.log.logEndOffset,
        currentLeaderEpoch: f.epoch,
        // a throttled replica asks for what the bucket holds (the leader still answers one whole batch)
        partitionMaxBytes: throttled(f) ? Math.max(1, Math.min(maxBytes, allowance)) : maxBytes,
        // the leader's DeleteRecords waits until every follower reports the new start
        logStartOffset: f.replica.log.logStartOffset,
        lastFetchedEpoch: f.replica.log.latestEpoch,
      };
      desired.set(sessionEntryKey(entry), entry);
    }
    // within a session only what changed is named (and what is no longer fetched, forgotten)
    const session = this.session?.connection === connection ? this.session : undefined;
    if (!session) this.session = undefined;
    const named: SessionEntry[] = [];
    const forgotten = new Map<string, { name: string; topicId?: string; partitions: number[] }>();
    for (const [key, entry] of desired) {
      const known = session?.partitions.get(key);
      if (!known || this.renamed.has(key) || !sameEntry(known, entry)) named.push(entry);
      this.renamed.delete(key);
    }
    if (session) {
      for (const [key, known] of session.partitions) if (!desired.has(key)) forget(forgotten, known);
    }
    this.namesById = new Map(live.flatMap((f) => (f.replica.topicId ? [[f.replica.topicId, f.replica.topic]] : [])));
    this.sent = new Map(live.map((f) => [keyOf(f.replica), f]));
    await this.send(connection, { session, desired, named, forgotten, waiting });
  }

  /**
   * The fetch of a pass within a session built from the dirty partitions alone: each is named when its
   * position changed, forgotten when it is no longer fetched; the others stay as the session holds them.
   * Undefined when a dirty partition needs the full pass (it was replaced, or is throttled).
   */
  private incrementalPlan(session: FollowerSession): FetchPlan | undefined {
    const maxBytes = this.options.config.int('replica.fetch.max.bytes');
    const named: SessionEntry[] = [];
    const forgotten: FetchPlan['forgotten'] = new Map();
    const now = Date.now();
    for (const key of this.dirty) {
      const f = this.followed.get(key);
      const before = this.sent.get(key);
      if (f !== undefined && before !== undefined && f !== before) {
        this.fullPass = true;
        return undefined;
      }
      if (f !== undefined && (this.options.throttle?.isThrottled(key) ?? false)) {
        this.fullPass = true;
        return undefined;
      }
      const held = f ?? before;
      const heldKey = held ? sessionEntryKey(held.replica) : undefined;
      const known = heldKey !== undefined ? session.partitions.get(heldKey) : undefined;
      const fetched =
        f !== undefined &&
        f.state === 'fetching' &&
        (f.retryAtMs ?? 0) <= now &&
        !f.replica.log.diskFull &&
        f.replica.repairFrom === undefined;
      if (!fetched || heldKey === undefined) {
        if (known && heldKey !== undefined) {
          forget(forgotten, known);
          session.partitions.delete(heldKey);
        }
        this.sent.delete(key);
        continue;
      }
      const entry: SessionEntry = {
        topic: f.replica.topic,
        topicId: f.replica.topicId,
        partition: f.replica.partition,
        fetchOffset: f.replica.log.logEndOffset,
        currentLeaderEpoch: f.epoch,
        partitionMaxBytes: maxBytes,
        logStartOffset: f.replica.log.logStartOffset,
        lastFetchedEpoch: f.replica.log.latestEpoch,
      };
      if (!known || this.renamed.has(heldKey) || !sameEntry(known, entry)) named.push(entry);
      this.renamed.delete(heldKey);
      // the session's entries are changed in place: a fetch that is not answered ends the session
      session.partitions.set(heldKey, entry);
      this.sent.set(key, f);
      if (f.replica.topicId) this.namesById.set(f.replica.topicId, f.replica.topic);
    }
    this.dirty.clear();
    return { session, desired: session.partitions, named, forgotten, waiting: false };
  }

  /** Sends the fetch `plan` describes and applies its answer (appends, high watermarks, errors). */
  private async send(connection: Connection, plan: FetchPlan): Promise<void> {
    const { session, desired, named, forgotten, waiting } = plan;
    const configuredWaitMs = this.options.config.int('replica.fetch.wait.max.ms');
    const maxWaitMs = waiting ? configuredWaitMs : Math.min(this.waitMs ?? configuredWaitMs, this.idleFetchWaitMs());
    const maxBytes = this.options.config.int('replica.fetch.max.bytes');
    const throttle = this.options.throttle;
    const throttled = (f: Followed): boolean => throttle?.isThrottled(keyOf(f.replica)) ?? false;
    const namesById = this.namesById;
    const sent = this.sent;
    // keyed by name and topic id: replicas of an old and a new topic of one name may both be here for a moment
    const byTopic = new Map<string, FetchRequest['topics'][number]>();
    for (const e of named) {
      const topicKey = `${e.topic}\u0000${e.topicId ?? ''}`;
      let entry = byTopic.get(topicKey);
      if (!entry) {
        entry = { name: e.topic, ...(e.topicId !== undefined ? { topicId: e.topicId } : {}), partitions: [] };
        byTopic.set(topicKey, entry);
      }
      entry.partitions.push({
        partition: e.partition,
        fetchOffset: e.fetchOffset,
        currentLeaderEpoch: e.currentLeaderEpoch,
        partitionMaxBytes: e.partitionMaxBytes,
        logStartOffset: e.logStartOffset,
        lastFetchedEpoch: e.lastFetchedEpoch,
      });
    }
    if (session) this.fetchCounts.incremental++;
    else this.fetchCounts.full++;
    this.pollCut = false;
    const response = await connection
      .request(
        ApiKey.Fetch,
        {
          replicaId: this.options.brokerId,
          maxWaitMs,
          minBytes: 1,
          maxBytes: maxBytes * 4,
          sessionId: session?.id ?? 0,
          sessionEpoch: session?.epoch ?? 0,
          ...(forgotten.size > 0 ? { forgotten: [...forgotten.values()] } : {}),
          topics: [...byTopic.values()],
        },
        { timeoutMs: maxWaitMs + replicaFetchRequestTimeoutMs },
      )
      .catch((err: unknown) => {
        // unanswered: the session's entries may have been changed for it, so the next fetch is a full one
        this.session = undefined;
        throw err;
      });
    if (
      response.errorCode === WireError.FETCH_SESSION_ID_NOT_FOUND ||
      response.errorCode === WireError.INVALID_FETCH_SESSION_EPOCH
    ) {
      // the leader lost the session (restarted, evicted it) or we are out of step: a full fetch next
      this.fetchCounts.sessionErrors++;
      this.session = undefined;
      this.options.logger.debug(
        { leader: this.options.leaderId, error: wireErrorName(response.errorCode) },
        'fetch session refused; the next fetch is a full one',
      );
      return;
    }
    if (response.errorCode === 0) {
      if (session) {
        session.epoch = session.epoch >= 0x7fff_ffff ? 1 : session.epoch + 1;
        session.partitions = desired;
      } else if ((response.sessionId ?? 0) > 0) {
        this.session = { id: response.sessionId ?? 0, epoch: 1, connection, partitions: desired };
      }
    } else {
      this.session = undefined;
    }
    if (response.errorCode !== 0) {
      throw new SluiceError(errorCodeOfWire(response.errorCode), `fetch refused: ${wireErrorName(response.errorCode)}`);
    }
    // a leader refuses a follower without ClusterAction on every partition (Kafka's shape): this broker's
    // principal lacks it, so warn and back off like any refused fetch instead of asking again at once
    if (response.topics.some((t) => t.partitions.some((p) => p.errorCode === WireError.TOPIC_AUTHORIZATION_FAILED))) {
      throw new SluiceError(
        ErrorCode.TopicAuthorizationFailed,
        "fetch refused: TOPIC_AUTHORIZATION_FAILED (the broker's principal needs ClusterAction on the cluster)",
      );
    }
    // an answer with records (or anything but a quiet partition) brings the poll back to its configured length
    const quiet = response.topics.every((t) => t.partitions.every((p) => p.errorCode === 0 && p.records.length === 0));
    // a poll cut short for an added partition (endPolls) says nothing about the leader being idle
    if (!this.pollCut) this.waitMs = quiet ? Math.max(maxWaitMs, 1) * 2 : configuredWaitMs;
    for (const t of response.topics) {
      // a topic asked for by id is answered by id (its name is '' where the leader does not know the id)
      const name = (t.topicId !== undefined ? namesById.get(t.topicId) : undefined) ?? t.name;
      for (const p of t.partitions) {
        const f = this.current(sent, name, p.partition);
        if (f?.state !== 'fetching') continue;
        // the answer is for the topic this replica belongs to (a replica of a newer topic of the name has its own entry)
        if (t.topicId !== undefined && t.topicId !== f.replica.topicId) continue;
        // its log may move here (appended, truncated, its start advanced): the next fetch looks at it
        this.dirty.add(keyOf(f.replica));
        const log = f.replica.log;
        if (p.errorCode === WireError.OFFSET_OUT_OF_RANGE && p.logStartOffset > log.logEndOffset) {
          // the leader no longer has what follows our log end (retention, compaction): start over at its log start
          this.options.logger.warn(
            { partition: f.replica.name, logEndOffset: log.logEndOffset, leaderLogStartOffset: p.logStartOffset },
            'follower is behind the leader log start: truncating fully',
          );
          await log.truncateFullyAndStartAt(p.logStartOffset);
          continue;
        }
        if (p.errorCode !== 0) {
          this.onPartitionError(f, p.errorCode, p.errorMessage);
          continue;
        }
        if (p.records.length > 0) {
          if (throttled(f)) throttle?.consume(p.records.length);
          try {
            await log.append(p.records, { assignOffsets: false });
          } catch (err) {
            // a full disk: nothing was written, the partition is not fetched until its log takes writes again
            this.fullPass = true;
            if (f.replica.log.diskFull) continue;
            // the bytes do not continue our log: find the divergence point again
            this.options.logger.warn({ err, partition: f.replica.name }, 'replicated batch rejected; truncating again');
            f.state = 'truncating';
            continue;
          }
          // a follower's high watermark comes from its leader: not once this replica has left that role
          if (this.current(sent, name, p.partition) !== f) continue;
        }
        f.replica.updateFollowerHighWatermark(p.highWatermark);
        // the leader's log start moved (retention, offsets compaction, DeleteRecords): follow it, up to our log end
        if (p.logStartOffset > log.logStartOffset) {
          await log.advanceLogStartOffset(Math.min(p.logStartOffset, log.logEndOffset));
        }
      }
    }
  }

  private onPartitionError(f: Followed, code: number, message: string | undefined): void {
    // its state changes (retry later, truncate again, fenced): the next pass looks at every partition
    this.fullPass = true;
    if (code === WireError.UNKNOWN_TOPIC_ID) {
      // the leader holds another topic of this name for now (it or we have not caught up with a deletion
      // and re-creation): ask again a little later rather than at once
      f.retryAtMs = Date.now() + replicaFetchRetryMsMin * 2;
    }
    if (code === WireError.FENCED_LEADER_EPOCH || code === WireError.NOT_LEADER_OR_FOLLOWER) {
      // our view of the leadership is stale or the leader's is: wait for the next state from the coordinator
      f.state = code === WireError.FENCED_LEADER_EPOCH ? 'fenced' : 'truncating';
    }
    this.options.logger.debug(
      { partition: f.replica.name, error: wireErrorName(code), message },
      'replica fetch refused for a partition',
    );
  }
}
