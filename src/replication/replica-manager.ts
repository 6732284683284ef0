/**
 * The broker's replication layer: turns partition states from the
 * coordinator (leader, leader epoch, ISR — from ZooKeeper, or fixed in
 * standalone mode) into local roles, runs one replica fetcher per leader this
 * broker follows, shrinks and expands the ISR of the partitions it leads, and
 * serves produce (acks 0/1/-1), consumer reads (up to the high watermark) and
 * follower fetches.
 *
 * State changes of one partition are applied one at a time, in the order the
 * coordinator reported them; a change for an epoch already applied is a no-op.
 */

import type { TlsConnectOptions } from '../client/tls.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { topicLogOverrides, topicMinInsyncReplicas } from '../config/topic-config.js';
import type { Coordinator, PartitionState } from '../coordination/coordinator.js';
import { crashOnBug } from '../shared/assert.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { isInternalTopic } from '../shared/internal-topics.js';
import {
  clientRequestTimeoutMsDefault,
  controlledShutdownAttemptWaitMs,
  controlledShutdownPollMs,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import type { LogManager } from '../storage/log-manager.js';
import type { AppendResult } from '../storage/partition-log.js';
import { codecOfCompressionType, recompressBatches } from '../wire/recompress.js';
import { encodeTxnMarker } from '../wire/txn-marker.js';
import type { AppendNotifier } from './append-notifier.js';
import { LeadershipLog } from './leadership-log.js';
import { type FollowerFetchLink, PartitionReplica } from './partition-replica.js';
import { ReplicaFetcher } from './replica-fetcher.js';
import { ReplicationThrottle } from './replication-throttle.js';
import { applyTimestampPolicy, type TimestampPolicy, timestampPolicyOf } from './timestamp-policy.js';

export type LeadershipListener = (topic: string, partition: number, leader: boolean) => void;

/** A transaction marker (a commit or abort control batch) this broker appended as its partition's leader (issue 21). */
export interface TxnMarkerWritten {
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
  committed: boolean;
  /** The marker's offset. */
  offset: number;
}
/** Told after a marker is appended and replicated (the group coordinator completes transactional offset commits on __consumer_offsets). */
export type TxnMarkerListener = (marker: TxnMarkerWritten) => void;

/** What the replica manager reports to metrics (the broker wires in its Prometheus metrics). */
export interface IsrChangeCounter {
  isrChanged(change: 'shrink' | 'expand'): void;
  /** A follower truncated corrupt records and fetches them again from its leader. */
  replicaRepaired?(): void;
}

export interface ReplicaManagerOptions {
  brokerId: number;
  logs: LogManager;
  coordinator: Coordinator;
  config: BrokerConfig;
  notifier: AppendNotifier;
  logger: Logger;
  /** Counts ISR shrinks and expands. */
  metrics?: IsrChangeCounter;
  /** TLS of the connections to leaders (inter.broker.security.protocol); absent: plaintext. */
  interBrokerTls?: TlsConnectOptions;
}

export class ReplicaManager {
  private readonly replicas = new Map<string, PartitionReplica>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Partitions whose state change waits for a full disk to have space (at most one timer each). */
  private readonly retryingFull = new Map<string, NodeJS.Timeout>();
  /** Deleted topics whose replicas and logs are being removed here. */
  private readonly removing = new Map<string, Promise<void>>();
  private readonly leadershipListeners = new Set<LeadershipListener>();
  private readonly txnMarkerListeners = new Set<TxnMarkerListener>();
  private readonly unsubscribe: (() => void)[] = [];
  private isrTimer: NodeJS.Timeout | undefined;
  /** The reassignment throttle of this broker's followers (only replicas being added, with --throttle). */
  private readonly throttle = new ReplicationThrottle();
  private closed = false;
  /**
   * In controlled shutdown: a follower partition this broker has left the
   * ISR of stops fetching (Kafka's StopReplica), so that its leader does not
   * take it back into the ISR before it stops.
   */
  private leaving = false;
  /**
   * While start() applies the partitions this broker already has: their "leading partition" and
   * "following partition" lines go to debug (one summary line says how many), changes after it at info.
   */
  private starting = false;
  private readonly brokerId: number;
  /** "leading partition" / "following partition" lines, a few per topic and second, the rest summarised */
  private readonly roleLog: LeadershipLog;

  constructor(private readonly options: ReplicaManagerOptions) {
    this.brokerId = options.brokerId;
    this.roleLog = new LeadershipLog(options.logger);
  }

  /** Applies every known partition state, then follows changes. */
  async start(): Promise<void> {
    const { coordinator } = this.options;
    this.unsubscribe.push(coordinator.onPartitionStateChanged((state) => void this.apply(state)));
    this.unsubscribe.push(
      coordinator.onTopicDeleted((topic) => {
        void this.removeTopic(topic);
      }),
    );
    this.unsubscribe.push(coordinator.onTopicConfigChanged((topic, configs) => this.reconfigureTopic(topic, configs)));
    // directories of a topic deleted and created again while this broker was away (partition.metadata)
    await this.options.logs.deleteStaleLogs((topic) => coordinator.topic(topic)?.topicId);
    this.starting = true;
    try {
      for (const spec of coordinator.topics()) await this.applyTopic(spec.name);
    } finally {
      this.starting = false;
    }
    await this.deleteStrayLogs();
    const lagMaxMs = this.options.config.int('replica.lag.time.max.ms');
    this.isrTimer = setInterval(() => this.shrinkIsrs(), Math.max(Math.floor(lagMaxMs / 2), 100));
    this.isrTimer.unref();
  }

  /**
   * Applies the current state of every partition of `topic` (after creating it here). With
   * `failOnError`, a partition whose state could not be applied here for a storage failure (its
   * log could not be made: too many open files, EMFILE) fails the call with KAFKA_STORAGE_ERROR, so a creation does not
   * answer success for partitions this broker cannot serve (issue 20 item 5).
   */
  async applyTopic(topic: string, failOnError = false): Promise<void> {
    const spec = this.options.coordinator.topic(topic);
    if (!spec) return;
    const pending: Promise<unknown>[] = [];
    for (let p = 0; p < spec.partitions; p++) {
      const state = this.options.coordinator.partitionState(topic, p);
      if (state) pending.push(this.applyReporting(state));
    }
    // only storage failures: a state change lost to a coordination race was logged and is retried by the next event
    const failures = (await Promise.all(pending)).filter(storageFailure);
    if (failOnError && failures.length > 0) {
      const first = failures[0];
      throw new SluiceError(
        ErrorCode.StorageError,
        `${failures.length} of ${spec.partitions} partitions of topic ${topic} could not be set up on broker ${this.brokerId}: ${first instanceof Error ? first.message : String(first)}`,
      );
    }
  }

  /**
   * A topic's configs changed (here or on another broker): every local log of
   * it takes the new log settings at once (retention and roll on their next
   * check, max.message.bytes on the next append). min.insync.replicas and the
   * message.timestamp.* keys are read from the topic's configs at each produce.
   */
  reconfigureTopic(topic: string, configs: Record<string, string>): void {
    let overrides: ReturnType<typeof topicLogOverrides>;
    try {
      overrides = topicLogOverrides(configs);
    } catch (err) {
      // written by something other than a broker's checked alteration: the logs keep their settings
      this.options.logger.error({ err, topic }, 'topic configs changed to values that are not valid; not applied');
      return;
    }
    for (const replica of this.replicas.values()) {
      if (replica.topic !== topic) continue;
      replica.log.updateConfig({ ...this.options.logs.defaults, ...overrides });
    }
    this.options.logger.info({ topic, configs }, 'topic configs changed');
  }

  /** Applies the current state of every partition (after the coordinator came back from a lost session). */
  async reapplyAll(): Promise<void> {
    for (const spec of this.options.coordinator.topics()) await this.applyTopic(spec.name);
  }

  /** Called when this broker starts or stops leading a partition (the group coordinator loads offsets). */
  /** Calls `listener` for every transaction marker this broker writes as a leader; returns the unsubscribe. */
  onTxnMarker(listener: TxnMarkerListener): () => void {
    this.txnMarkerListeners.add(listener);
    return () => this.txnMarkerListeners.delete(listener);
  }

  /** Tells the marker listeners (called once a marker is appended and replicated). */
  protected markerWritten(marker: TxnMarkerWritten): void {
    for (const listener of this.txnMarkerListeners) {
      try {
        listener(marker);
      } catch (err) {
        crashOnBug(err);
        this.options.logger.error(
          { err, topic: marker.topic, partition: marker.partition },
          'txn marker listener failed',
        );
      }
    }
  }

  onLeadershipChange(listener: LeadershipListener): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  /** The partitions this broker has a replica of, by role (the start-up summary line). */
  roleCounts(): { partitions: number; leaders: number; followers: number } {
    let leaders = 0;
    let followers = 0;
    for (const r of this.replicas.values()) {
      if (r.role === 'leader') leaders++;
      else if (r.role === 'follower') followers++;
    }
    return { partitions: this.replicas.size, leaders, followers };
  }

  /** Partitions led here whose ISR is smaller than their replica set. */
  underReplicatedCount(): number {
    let count = 0;
    for (const r of this.replicas.values()) if (r.role === 'leader' && r.isr.length < r.replicas.length) count++;
    return count;
  }

  /**
   * Corrupt bytes were found at `offset` of a log here (the scrubber). A follower repairs itself from
   * its leader: it stops fetching until the leader has taken it out of the ISR, then truncates its
   * log there and fetches the rest again (replica-fetcher.ts). A leader does not (it would have to
   * hand its leadership over first): its readers are told the next readable offset, and the error
   * says how to get a repair (a controlled shutdown and restart makes it a follower).
   */
  corruptFound(topic: string, partition: number, offset: number): void {
    const replica = this.replica(topic, partition);
    if (!replica) return;
    const where = { topic, partition, offset };
    if (replica.role === 'leader' && this.options.coordinator.requestLeaderHandover) {
      // a leader hands its leadership over first; as a follower (out of the ISR) it repairs
      replica.repairFrom = Math.min(replica.repairFrom ?? offset, offset);
      this.options.logger.warn(
        where,
        'corrupt records in a log this broker leads: it asks the controller to hand the leadership to an in-sync replica, then repairs them as a follower',
      );
      this.options.coordinator
        .requestLeaderHandover(topic, partition)
        .catch((err: unknown) =>
          this.options.logger.warn(
            { ...where, err },
            'asking for a leadership handover failed; the next scrub pass asks again',
          ),
        );
      return;
    }
    if (replica.role !== 'follower') {
      this.options.logger.error(
        { ...where, role: replica.role },
        'corrupt records in a log with no other replica to repair them from: not repaired; readers get CORRUPT_MESSAGE naming the next readable offset',
      );
      return;
    }
    if (replica.repairFrom === undefined) {
      this.options.logger.warn(
        { ...where, leader: replica.leaderId },
        'corrupt records in a follower log: it stops fetching until the leader takes it out of the ISR, then fetches them again from there',
      );
    }
    replica.repairFrom = Math.min(replica.repairFrom ?? offset, offset);
  }

  replica(topic: string, partition: number): PartitionReplica | undefined {
    return this.replicas.get(topicPartitionKey(topic, partition));
  }

  /** The replica when this broker leads the partition, else a NotLeader / UnknownPartition error. */
  leaderReplica(topic: string, partition: number): PartitionReplica {
    const replica = this.replica(topic, partition);
    if (!replica) {
      if (this.options.coordinator.partitionState(topic, partition)) {
        throw new SluiceError(ErrorCode.NotLeader, `broker ${this.brokerId} does not lead ${topic}-${partition}`);
      }
      throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
    }
    if (replica.role !== 'leader') {
      throw new SluiceError(
        ErrorCode.NotLeader,
        replica.leaderId >= 0
          ? `broker ${this.brokerId} does not lead ${replica.name} (broker ${replica.leaderId} does)`
          : `${replica.name} has no leader right now`,
      );
    }
    return replica;
  }

  /** The topic's compression.type, else the broker's (the codec its leader stores batches in; producer: as sent). */
  compressionTypeOf(topic: string): string {
    return (
      this.options.coordinator.topic(topic)?.configs['compression.type'] ??
      this.options.config.string('compression.type')
    );
  }

  /**
   * What a leader append needs of its topic's settings (min.insync.replicas, compression.type, the
   * timestamp policy), looked up once: a produce request naming thousands of partitions of a topic
   * reads them once for all of them (issue 20 item 4), not once per partition.
   */
  leaderAppendPolicy(topic: string): LeaderAppendPolicy {
    const configs = this.options.coordinator.topic(topic)?.configs;
    return {
      minIsr: (configs && topicMinInsyncReplicas(configs)) ?? this.options.config.int('min.insync.replicas'),
      codec: codecOfCompressionType(this.compressionTypeOf(topic)),
      timestamps: timestampPolicyOf(configs ?? {}, this.options.config),
    };
  }

  /**
   * A produce: append as leader; acks=-1 then waits until every ISR member has
   * the records (and refuses up front when the ISR is below min.insync.replicas).
   */
  async appendAsLeader(
    topic: string,
    partition: number,
    records: Buffer,
    acks: number,
    timeoutMs: number,
  ): Promise<LeaderAppendResult> {
    return this.appendAsLeaderNow(topic, partition, records, acks, timeoutMs);
  }

  /**
   * appendAsLeader() without a promise when nothing waits (acks 0 or 1, and the log wrote the
   * batches in this call with nothing to complete first): the result itself. Throws what
   * appendAsLeader() would reject with when it fails at once. `policy`: the topic's
   * leaderAppendPolicy() when the caller looked it up for many partitions; read now when absent.
   */
  appendAsLeaderNow(
    topic: string,
    partition: number,
    records: Buffer,
    acks: number,
    timeoutMs: number,
    policy: LeaderAppendPolicy = this.leaderAppendPolicy(topic),
  ): LeaderAppendResult | Promise<LeaderAppendResult> {
    const replica = this.leaderReplica(topic, partition);
    const { minIsr, codec } = policy;
    if (acks === -1 && replica.isr.length < minIsr) {
      throw new SluiceError(
        ErrorCode.NotEnoughReplicas,
        `${replica.name} has ${replica.isr.length} in-sync replica(s), min.insync.replicas is ${minIsr}`,
      );
    }
    // the topic's compression.type (else the broker's): batches in another codec are rewritten in it
    const stored = codec === undefined ? records : recompressBatches(records, codec);
    // message.timestamp.type / message.timestamp.difference.max.ms (issue 16), on the batches as stored
    const logAppendTimeMs = applyTimestampPolicy(stored, policy.timestamps, Date.now());
    // the broker's own topics are written by the broker alone (produce refuses them): its transactional
    // offset commits carry no sequence (Kafka's AppendOrigin.Coordinator)
    const origin = isInternalTopic(topic) ? 'coordinator' : 'client';
    const appended = replica.log.appendNow(stored, { leaderEpoch: replica.leaderEpoch, origin });
    if (appended instanceof Promise) {
      return appended.then((result) => this.leaderAppended(replica, result, logAppendTimeMs, acks, minIsr, timeoutMs));
    }
    return this.leaderAppended(replica, appended, logAppendTimeMs, acks, minIsr, timeoutMs);
  }

  /** The leader's append is in its log: readers are woken, the high watermark may move, acks=-1 waits for the ISR. */
  private leaderAppended(
    replica: PartitionReplica,
    result: AppendResult,
    logAppendTimeMs: number,
    acks: number,
    minIsr: number,
    timeoutMs: number,
  ): LeaderAppendResult | Promise<LeaderAppendResult> {
    this.options.notifier.notify(topicPartitionKey(replica.topic, replica.partition));
    replica.onLeaderAppend();
    const done: LeaderAppendResult = {
      ...result,
      logAppendTimeMs,
      logStartOffset: replica.log.logStartOffset,
    };
    if (acks !== -1) return done;
    return replica.waitForReplication(result.lastOffset + 1, minIsr, timeoutMs).then(() => done);
  }

  /**
   * WriteTxnMarkers on a partition this broker leads (KIP-98): appends one marker control batch
   * (wire/txn-marker.ts) for the producer's transaction, waits until every ISR member has it (as
   * acks=-1, min.insync.replicas included), then tells the marker listeners (markerWritten).
   * Resolves with the marker's offset. The log refuses a marker whose producer epoch is older
   * than the partition's (INVALID_PRODUCER_EPOCH) or whose coordinator epoch is older than the
   * last one seen for the producer (TRANSACTION_COORDINATOR_FENCED). A marker for a producer with
   * no open transaction here is written all the same and changes nothing (markers are retried).
   */
  async writeTxnMarker(marker: {
    topic: string;
    partition: number;
    producerId: number;
    producerEpoch: number;
    committed: boolean;
    coordinatorEpoch: number;
    timeoutMs?: number;
  }): Promise<number> {
    const { topic, partition } = marker;
    const replica = this.leaderReplica(topic, partition);
    const { minIsr } = this.leaderAppendPolicy(topic);
    if (replica.isr.length < minIsr) {
      throw new SluiceError(
        ErrorCode.NotEnoughReplicas,
        `${replica.name} has ${replica.isr.length} in-sync replica(s), min.insync.replicas is ${minIsr}`,
      );
    }
    // written as it is: a marker is never recompressed nor restamped (Kafka writes them uncompressed)
    const batch = encodeTxnMarker(marker);
    const result = await replica.log.append(batch, { leaderEpoch: replica.leaderEpoch, origin: 'coordinator' });
    this.options.notifier.notify(topicPartitionKey(topic, partition));
    replica.onLeaderAppend();
    const timeoutMs = marker.timeoutMs ?? clientRequestTimeoutMsDefault;
    await replica.waitForReplication(result.lastOffset + 1, minIsr, timeoutMs);
    this.markerWritten({
      topic,
      partition,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      committed: marker.committed,
      offset: result.baseOffset,
    });
    return result.baseOffset;
  }

  /**
   * DeleteRecords on the leader (Kafka's deleteRecordsOnLeader, then its
   * DelayedDeleteRecords): the log start moves to `offset` (-1: the high
   * watermark); an offset past the high watermark, or negative other than -1,
   * is OFFSET_OUT_OF_RANGE. Followers follow through the log start their
   * fetches carry and report theirs in their next fetch; this resolves when
   * the partition's low watermark (the smallest log start of the leader and
   * the followers on live brokers) has reached the new start ({reached:
   * true}), or after `timeoutMs` with the low watermark then ({reached: false}).
   */
  async deleteRecords(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs: number,
  ): Promise<{ lowWatermark: number; reached: boolean }> {
    const replica = this.leaderReplica(topic, partition);
    const hw = replica.highWatermark;
    const target = offset === -1 ? hw : offset;
    if (!Number.isSafeInteger(target) || target < 0 || target > hw) {
      throw new SluiceError(
        ErrorCode.OffsetOutOfRange,
        `cannot delete records of ${replica.name} up to ${offset}: it must be -1 or 0..${hw} (the high watermark)`,
      );
    }
    await replica.log.advanceLogStartOffset(target);
    // wakes the followers' long polls: their answers carry the new log start
    this.options.notifier.notify(topicPartitionKey(topic, partition));
    const { coordinator } = this.options;
    return replica.waitForLowWatermark(target, timeoutMs, (id) => coordinator.brokers().some((b) => b.nodeId === id));
  }

  /** A follower's fetch at `fetchOffset` (with its log start): progress for the ISR, the high and the low watermark. */
  onFollowerFetch(
    replica: PartitionReplica,
    replicaId: number,
    fetchOffset: number,
    logStartOffset = -1,
    link?: FollowerFetchLink,
  ): void {
    if (replica.onFollowerFetch(replicaId, fetchOffset, Date.now(), logStartOffset, link)) {
      void this.changeIsr(replica, [...replica.isr, replicaId], 'caught up');
    }
  }

  private shrinkIsrs(): void {
    const now = Date.now();
    const lagMaxMs = this.options.config.int('replica.lag.time.max.ms');
    for (const replica of this.replicas.values()) {
      if (replica.role !== 'leader' || replica.isrUpdating) continue;
      const lagging = replica.laggingReplicas(now, lagMaxMs);
      if (lagging.length === 0) continue;
      void this.changeIsr(
        replica,
        replica.isr.filter((id) => !lagging.includes(id)),
        `replicas ${lagging.join(',')} lagging more than ${lagMaxMs} ms`,
      );
    }
  }

  /** Writes the new ISR through the coordinator; the local ISR changes only once that succeeded. */
  private async changeIsr(replica: PartitionReplica, isr: number[], reason: string): Promise<void> {
    if (replica.isrUpdating || replica.role !== 'leader') return;
    replica.isrUpdating = true;
    const epoch = replica.leaderEpoch;
    const before = replica.isr;
    try {
      const sorted = [...new Set(isr)];
      // an admitted follower may be elected leader as soon as the write lands, before we hear back
      replica.isrChangeProposed(sorted);
      const ok = await this.options.coordinator.updateIsr(replica.topic, replica.partition, epoch, sorted);
      if (ok && replica.role === 'leader' && replica.leaderEpoch === epoch) {
        this.options.logger.info(
          {
            topic: replica.topic,
            partition: replica.partition,
            from: before,
            to: sorted,
            reason,
          },
          'ISR changed',
        );
        replica.isrChangeConfirmed(sorted);
        this.options.metrics?.isrChanged(sorted.length < before.length ? 'shrink' : 'expand');
      } else if (ok) {
        this.options.logger.info(
          {
            topic: replica.topic,
            partition: replica.partition,
            from: before,
            to: sorted,
            reason,
            epoch,
          },
          'ISR written, but leadership moved before it was confirmed here',
        );
      }
    } catch (err) {
      crashOnBug(err);
      this.options.logger.warn({ err, partition: replica.name }, 'ISR change failed; retried on the next check');
    } finally {
      replica.isrUpdating = false;
    }
  }

  // ---- applying partition states ----

  apply(state: PartitionState): Promise<void> {
    return this.applyReporting(state).then(() => undefined);
  }

  /**
   * As apply, resolving with the error that left the state unapplied here (undefined when it was
   * applied, or waits for disk space): a creation answers with it (applyTopic).
   */
  private applyReporting(state: PartitionState): Promise<unknown> {
    const key = topicPartitionKey(state.topic, state.partition);
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      this.applyNow(state).then(
        () => undefined,
        (err: unknown) => {
          if (isSluiceError(err, ErrorCode.LogDirFull)) {
            this.retryWhenSpace(key, state, err);
            return undefined;
          }
          this.options.logger.error(
            { err, topic: state.topic, partition: state.partition },
            'partition state change failed',
          );
          return err;
        },
      ),
    );
    this.chains.set(
      key,
      next.then(() => undefined),
    );
    return next;
  }

  /**
   * A partition whose log could not be created for a full disk is tried again every
   * log.dir.full.retry.ms (the newest state then, as applyNow reads it) until the disk has space:
   * one warning, then quiet.
   */
  private retryWhenSpace(key: string, state: PartitionState, err: SluiceError): void {
    if (this.closed || this.retryingFull.has(key)) return;
    this.options.logger.warn(
      { topic: state.topic, partition: state.partition, err: err.message },
      'partition waits for disk space: its state change is retried',
    );
    const retry = (): void => {
      if (this.closed) return;
      const next = (this.chains.get(key) ?? Promise.resolve()).then(() =>
        this.applyNow(state).then(
          () => {
            this.retryingFull.delete(key);
            this.options.logger.info({ topic: state.topic, partition: state.partition }, 'partition state applied');
          },
          (e: unknown) => {
            if (isSluiceError(e, ErrorCode.LogDirFull) && !this.closed) {
              this.retryingFull.set(key, setTimeout(retry, retryMs).unref());
              return;
            }
            this.retryingFull.delete(key);
            this.options.logger.error(
              { err: e, topic: state.topic, partition: state.partition },
              'partition state change failed',
            );
          },
        ),
      );
      this.chains.set(key, next);
    };
    const retryMs = this.options.config.int('log.dir.full.retry.ms');
    this.retryingFull.set(key, setTimeout(retry, retryMs).unref());
  }

  private async applyNow(given: PartitionState): Promise<void> {
    // a topic deleted and created again at once: the new topic's partitions get new logs only once the
    // old topic's are gone (the log manager would otherwise hand back an old log not yet deleted)
    await this.removing.get(given.topic);
    if (this.closed) return;
    // the newest state, not the one the event carried: events can queue up behind a slow step
    const state = this.options.coordinator.partitionState(given.topic, given.partition) ?? given;
    const key = topicPartitionKey(state.topic, state.partition);
    if (!state.replicas.includes(this.brokerId)) {
      // no longer a replica here (a partition reassignment moved it away): stop and delete the log
      if (this.replicas.has(key)) await this.removeReplica(key, 'it was reassigned to other brokers');
      return;
    }
    const spec = this.options.coordinator.topic(state.topic);
    if (!spec) return;
    this.throttle.set(
      key,
      state.addingReplicas?.includes(this.brokerId) === true ? state.throttleBytesPerSec : undefined,
    );
    let replica = this.replicas.get(key);
    if (!replica) {
      const overrides = topicLogOverrides(spec.configs);
      const log = await this.options.logs.getOrCreate(state.topic, state.partition, overrides, spec.topicId);
      log.updateConfig({ ...this.options.logs.defaults, ...overrides });
      replica = new PartitionReplica(state.topic, state.partition, log, this.brokerId, () =>
        this.options.notifier.notify(key),
      );
      replica.topicId = spec.topicId;
      this.replicas.set(key, replica);
    }
    const wasLeader = replica.role === 'leader';
    if (state.leader === this.brokerId) {
      if (wasLeader && replica.leaderEpoch === state.leaderEpoch) {
        if (replica.replicas.join() !== state.replicas.join()) replica.updateReplicas(state.replicas);
        replica.setIsr(state.isr);
        return;
      }
      this.stopFetching(replica);
      await replica.becomeLeader(state.leaderEpoch, state.replicas, state.isr, Date.now());
      this.roleLog.record(
        'leading',
        { topic: state.topic, partition: state.partition, epoch: state.leaderEpoch, isr: state.isr },
        this.starting,
      );
      this.notifyLeadership(replica, true);
      return;
    }
    if (state.leader < 0) {
      this.stopFetching(replica);
      replica.becomeOffline('no leader elected');
    } else {
      if (
        replica.role === 'follower' &&
        replica.leaderId === state.leader &&
        replica.leaderEpoch === state.leaderEpoch
      ) {
        replica.isr = [...state.isr];
        replica.updateReplicas(state.replicas);
        if (this.leaving && !state.isr.includes(this.brokerId)) this.stopFetching(replica);
        return;
      }
      this.stopFetching(replica);
      replica.becomeFollower(state.leader, state.leaderEpoch, state.replicas, state.isr);
      if (!this.leaving || state.isr.includes(this.brokerId)) this.fetcherFor(state.leader).add(replica);
      this.roleLog.record(
        'following',
        { topic: state.topic, partition: state.partition, leader: state.leader, epoch: state.leaderEpoch },
        this.starting,
      );
    }
    if (wasLeader) this.notifyLeadership(replica, false);
  }

  private notifyLeadership(replica: PartitionReplica, leader: boolean): void {
    // a leader's fetch sessions read the partition on their next pass (it left, or leads at a new epoch)
    this.options.notifier.notify(topicPartitionKey(replica.topic, replica.partition));
    for (const listener of this.leadershipListeners) {
      try {
        listener(replica.topic, replica.partition, leader);
      } catch (err) {
        this.options.logger.error({ err, partition: replica.name }, 'leadership listener failed');
      }
    }
  }

  private fetcherFor(leaderId: number): ReplicaFetcher {
    let fetcher = this.fetchers.get(leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher({
        brokerId: this.brokerId,
        leaderId,
        endpoint: () => this.options.coordinator.brokers().find((b) => b.nodeId === leaderId),
        config: this.options.config,
        logger: this.options.logger,
        throttle: this.throttle,
        onRepaired: () => this.options.metrics?.replicaRepaired?.(),
        ...(this.options.interBrokerTls ? { tls: this.options.interBrokerTls } : {}),
        onIdle: () => {
          if (this.fetchers.get(leaderId) === fetcher) this.fetchers.delete(leaderId);
        },
      });
      this.fetchers.set(leaderId, fetcher);
    }
    return fetcher;
  }

  private stopFetching(replica: PartitionReplica): void {
    if (replica.role !== 'follower') return;
    this.fetchers.get(replica.leaderId)?.remove(replica);
  }

  /**
   * This broker is no longer a replica of the partition (reassigned away):
   * it stops following or leading it and deletes its local log, as Kafka's
   * StopReplica with delete=true does.
   */
  private async removeReplica(key: string, reason: string): Promise<void> {
    const replica = this.replicas.get(key);
    if (!replica) return;
    this.stopFetching(replica);
    this.throttle.set(key, undefined);
    const wasLeader = replica.role === 'leader';
    replica.close(`${replica.name} ${reason}`);
    this.replicas.delete(key);
    if (wasLeader) this.notifyLeadership(replica, false);
    this.options.logger.info({ topic: replica.topic, partition: replica.partition, reason }, 'removing replica');
    try {
      await this.options.logs.delete(replica.topic, replica.partition);
    } catch (err) {
      this.options.logger.error({ err, partition: replica.name }, 'deleting the log of a removed replica failed');
    }
  }

  /**
   * Logs left here for partitions this broker is no longer a replica of (it
   * was down while a reassignment moved them away): deleted at start.
   */
  private async deleteStrayLogs(): Promise<void> {
    for (const log of this.options.logs.all()) {
      const state = this.options.coordinator.partitionState(log.topic, log.partition);
      if (!state || state.replicas.includes(this.brokerId)) continue;
      const key = topicPartitionKey(log.topic, log.partition);
      await (this.chains.get(key) ?? Promise.resolve());
      if (this.replicas.has(key)) continue;
      this.options.logger.info({ topic: log.topic, partition: log.partition }, 'deleting the log of a stray replica');
      await this.options.logs.delete(log.topic, log.partition);
    }
  }

  /** Stops replicating a deleted topic and deletes its logs here (once, however many callers ask). */
  removeTopic(topic: string): Promise<void> {
    let pending = this.removing.get(topic);
    if (!pending) {
      pending = this.removeTopicNow(topic).finally(() => this.removing.delete(topic));
      this.removing.set(topic, pending);
    }
    return pending;
  }

  private async removeTopicNow(topic: string): Promise<void> {
    for (const [key, replica] of [...this.replicas]) {
      if (replica.topic !== topic) continue;
      this.stopFetching(replica);
      const wasLeader = replica.role === 'leader';
      replica.close(`topic ${topic} was deleted`);
      this.replicas.delete(key);
      if (wasLeader) this.notifyLeadership(replica, false);
    }
    try {
      await this.options.logs.deleteTopic(topic);
    } catch (err) {
      this.options.logger.error({ err, topic }, 'deleting the logs of a deleted topic failed');
    }
  }

  /** This broker left the cluster (ZooKeeper session lost): it stops leading and following everything. */
  /**
   * Controlled shutdown (issue 18; Kafka's controlled.shutdown.*): asks the
   * controller to move this broker's leaderships and ISR memberships away
   * (Coordinator.requestControlledShutdown) and waits, at most `maxRetries`
   * attempts of controlledShutdownAttemptWaitMs with `backoffMs` between
   * them, until it leads no partition another in-sync replica could take and
   * is in no ISR of a partition another broker leads. Resolves with the
   * partitions still held when the attempts ran out ([] on success); the
   * caller stops anyway, as Kafka does.
   */
  async controlledShutdown(maxRetries: number, backoffMs: number): Promise<string[]> {
    const { coordinator } = this.options;
    if (!coordinator.requestControlledShutdown) return [];
    this.leaving = true;
    let held: string[] = [];
    for (let attempt = 1; attempt <= maxRetries && !this.closed; attempt++) {
      try {
        await coordinator.requestControlledShutdown();
        const deadline = Date.now() + controlledShutdownAttemptWaitMs;
        for (;;) {
          const leaving = new Set((await coordinator.brokersShuttingDown?.()) ?? []);
          held = this.heldForShutdown(leaving);
          if (held.length === 0) return [];
          if (Date.now() >= deadline || this.closed) break;
          await new Promise((resolve) => setTimeout(resolve, controlledShutdownPollMs));
        }
      } catch (err) {
        crashOnBug(err);
        this.options.logger.warn({ err, attempt }, 'controlled shutdown attempt failed');
        if (held.length === 0) held = ['(the controller could not be asked)'];
      }
      if (attempt < maxRetries) {
        this.options.logger.info(
          { attempt, partitions: held.slice(0, 10), count: held.length },
          'controlled shutdown: partitions not moved yet; trying again',
        );
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
    return held;
  }

  /**
   * The partitions a controlled shutdown still waits for: led here with
   * another in-sync replica to take over, or led elsewhere with this broker
   * still in the ISR (as the coordinator and this broker see it). Only where
   * an in-sync replica stays (registered, not `leaving` too): the controller
   * does not move a partition whose in-sync replicas all go (that would lose
   * records), so a whole cluster stopped at once does not wait for it.
   */
  private heldForShutdown(leaving: ReadonlySet<number>): string[] {
    const held: string[] = [];
    const registered = new Set(this.options.coordinator.brokers().map((b) => b.nodeId));
    for (const replica of this.replicas.values()) {
      const state = this.options.coordinator.partitionState(replica.topic, replica.partition);
      if (!state) continue;
      const others = state.isr.some((id) => id !== this.brokerId && registered.has(id) && !leaving.has(id));
      if ((state.leader === this.brokerId || replica.role === 'leader') && others) held.push(replica.name);
      else if (
        state.leader >= 0 &&
        state.leader !== this.brokerId &&
        !leaving.has(state.leader) &&
        state.isr.includes(this.brokerId)
      ) {
        held.push(replica.name);
      }
    }
    return held;
  }

  resignAll(reason: string): void {
    for (const replica of this.replicas.values()) {
      const wasLeader = replica.role === 'leader';
      this.stopFetching(replica);
      replica.becomeOffline(reason);
      if (wasLeader) this.notifyLeadership(replica, false);
    }
  }

  async close(): Promise<void> {
    this.roleLog.flush();
    this.closed = true;
    if (this.isrTimer) clearInterval(this.isrTimer);
    for (const timer of this.retryingFull.values()) clearTimeout(timer);
    this.retryingFull.clear();
    for (const off of this.unsubscribe) off();
    const fetchers = [...this.fetchers.values()];
    this.fetchers.clear();
    await Promise.all(fetchers.map((f) => f.close()));
    for (const replica of this.replicas.values()) replica.close('the broker is shutting down');
    await Promise.all([...this.chains.values()]);
  }
}

/**
 * File-system errors that mean this broker cannot keep a log here (descriptors exhausted, disk
 * full or read-only, permissions, I/O failure, the log dir gone). Any other error (a coordination
 * race, a socket error from a lookup) is not a storage failure: it is logged and retried.
 */
const storageErrnos = new Set([
  'EMFILE',
  'ENFILE',
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EROFS',
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
]);

/** A topic's settings for leader appends (ReplicaManager.leaderAppendPolicy). */
export interface LeaderAppendPolicy {
  minIsr: number;
  /** The codec batches are stored in; undefined: as the producer sent them. */
  codec: ReturnType<typeof codecOfCompressionType>;
  timestamps: TimestampPolicy;
}

/** A leader append's result: the log's, the log append time (-1 under CreateTime), the log start after it. */
export type LeaderAppendResult = AppendResult & { logAppendTimeMs: number; logStartOffset: number };

function storageFailure(err: unknown): boolean {
  if (isSluiceError(err, ErrorCode.StorageError)) return true;
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && storageErrnos.has(code);
}
