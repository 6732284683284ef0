/**
 * One partition as this broker replicates it: its role (leader, follower or
 * offline), the leader epoch it acts under, the ISR, and the high watermark.
 *
 * As leader it tracks each follower's log end offset (learnt from the offset
 * the follower fetches at) and when the follower was last caught up, which
 * drives ISR shrink (lagging longer than replica.lag.time.max.ms) and expand
 * (caught up to the high watermark again). The high watermark is the smallest
 * log end offset in the ISR; it never moves backwards while this broker leads.
 * acks=-1 produce requests wait here until the high watermark passes their
 * last offset — every ISR member has the records.
 *
 * As follower the high watermark is the leader's, capped by its own log end.
 *
 * ISR changes are decided here and written by the ReplicaManager through the
 * coordinator (ZooKeeper); the local ISR changes only once that write
 * succeeded. Meanwhile the high watermark waits for the members of both the
 * old and the proposed ISR (Kafka's "maximal ISR"): the moment a follower's
 * admission reaches ZooKeeper the controller may elect it (preferred leader
 * election), so from then on no record it lacks may be acknowledged. The ISR
 * a new leader is elected from thus always holds every acknowledged record.
 */
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { ackWaitersPerPartitionMax, deleteRecordsWaitersPerPartitionMax } from '../shared/limits.js';
import type { PartitionLog } from '../storage/partition-log.js';

export type ReplicaRole = 'leader' | 'follower' | 'offline';

/**
 * A follower's fetch session that holds this partition's position (fetch-sessions.ts): its
 * fetches name the partition only when the position changes, and the leader reads it only when
 * it has news, so the follower's progress here is what the session last recorded, kept true by
 * the session's own fetch times. Once an append is made here the session reads the partition on
 * its next pass, so until then the follower still stands where it was at the session's last fetch.
 */
export interface FollowerFetchLink {
  /** False once the session ended or dropped the partition. */
  readonly live: boolean;
  /** When the session's follower last fetched (the start of its last pass, or the end of a held poll). */
  readonly lastFetchMs: number;
  /** Whether the leader holds one of the session's long polls now. */
  readonly polling: boolean;
}

interface FollowerProgress {
  /** Log end offset of the follower: it has every offset below this. */
  logEndOffset: number;
  lastCaughtUpMs: number;
  /** The leader's log end when the follower's previous fetch was served (Kafka's lastFetchLeaderLogEndOffset). */
  lastFetchLeaderLogEnd: number;
  lastFetchMs: number;
  /** The follower's log start as its last fetch reported it; -1 until then (the low watermark waits for it). */
  logStartOffset: number;
  /** This follower's long polls the leader holds with the follower at its log end (followerPollHeld). */
  pollsHeld?: number;
  /** The fetch session that last recorded this progress (undefined: a fetch outside any session). */
  link?: FollowerFetchLink;
}

interface AckWaiter {
  /** Done when the high watermark reaches this offset (last offset of the append + 1). */
  requiredOffset: number;
  minIsr: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** A DeleteRecords waiting for every live replica's log start (Kafka's DelayedDeleteRecords). */
interface LowWatermarkWaiter {
  /** Done when the low watermark reaches this offset. */
  requiredOffset: number;
  /** Whether a replica's broker is alive: only those count (Kafka's lowWatermarkIfLeader). */
  isAlive: (brokerId: number) => boolean;
  resolve: (answer: { lowWatermark: number; reached: boolean }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class PartitionReplica {
  role: ReplicaRole = 'offline';
  leaderId = -1;
  leaderEpoch = -1;
  replicas: number[] = [];
  isr: number[] = [];
  private hw: number;
  private readonly followers = new Map<number, FollowerProgress>();
  private waiters: AckWaiter[] = [];
  private lowWatermarkWaiters: LowWatermarkWaiter[] = [];
  /** An ISR write in flight: at most one at a time per partition. */
  isrUpdating = false;
  /**
   * Set when corrupt bytes were found in this follower's log (the scrubber): from this offset on
   * its log is fetched again from the leader, once the leader has taken it out of the ISR (so that
   * it is never elected while it lacks records it acknowledged). Cleared by the repair.
   */
  repairFrom: number | undefined;
  /**
   * Members of ISR changes written (or being written) to the coordinator but
   * not yet confirmed here: they hold the high watermark like ISR members.
   * Cleared when a change is confirmed and on every role change; a write that
   * failed with an unknown outcome (connection lost) keeps them, as it may
   * have landed.
   */
  private isrProposed: number[] = [];

  /**
   * The id of the topic this replica belongs to (absent for topics from before ids). A topic
   * deleted and created again under its name starts over at leader epoch 0, so epochs cannot tell
   * its replicas from the old topic's: followers name the id in each fetch and a leader refuses a
   * fetch for another id (replica-fetcher.ts, fetch.ts).
   */
  topicId: string | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    readonly brokerId: number,
    /** Called when the high watermark moves (wakes long-polling consumers). */
    private readonly onHighWatermark: () => void,
  ) {
    // a reopened replica starts from the high watermark it recorded (Kafka's checkpoint), not its log
    // start: elected before anyone fetches from it, it must not answer less than was committed
    this.hw = log.checkpointedHighWatermark;
  }

  get highWatermark(): number {
    return Math.max(this.hw, this.log.logStartOffset);
  }

  /**
   * The last stable offset (KIP-98): read_committed consumers read below it. The first offset of
   * the oldest transaction open here, at most the high watermark, never below the log start
   * (retention may have deleted where an open transaction began).
   */
  get lastStableOffset(): number {
    const hw = this.highWatermark;
    const unstable = this.log.firstUnstableOffset;
    if (unstable === undefined || unstable >= hw) return hw;
    return Math.max(unstable, this.log.logStartOffset);
  }

  /** This broker now leads at `leaderEpoch` with the given ISR. */
  async becomeLeader(leaderEpoch: number, replicas: number[], isr: number[], nowMs: number): Promise<void> {
    assert(replicas.includes(this.brokerId), `${this.name}: broker ${this.brokerId} leads without being a replica`);
    assert(isr.includes(this.brokerId), `${this.name}: broker ${this.brokerId} leads outside its ISR ${isr.join()}`);
    this.role = 'leader';
    this.leaderId = this.brokerId;
    this.leaderEpoch = leaderEpoch;
    this.replicas = [...replicas];
    this.isr = [...isr];
    this.isrProposed = [];
    this.followers.clear();
    for (const id of replicas) {
      if (id === this.brokerId) continue;
      // unknown until the follower fetches; ISR members get the benefit of the doubt for one lag period
      this.followers.set(id, {
        logEndOffset: -1,
        lastCaughtUpMs: isr.includes(id) ? nowMs : 0,
        lastFetchLeaderLogEnd: -1,
        lastFetchMs: 0,
        logStartOffset: -1,
      });
    }
    await this.log.assignLeaderEpoch(leaderEpoch);
    this.maybeAdvanceHighWatermark();
  }

  becomeFollower(leaderId: number, leaderEpoch: number, replicas: number[], isr: number[]): void {
    assert(leaderId >= 0 && leaderId !== this.brokerId, `${this.name}: cannot follow broker ${leaderId}`);
    assert(isr.includes(leaderId), `${this.name}: leader ${leaderId} is outside its ISR ${isr.join()}`);
    this.role = 'follower';
    this.leaderId = leaderId;
    this.leaderEpoch = leaderEpoch;
    this.replicas = [...replicas];
    this.isr = [...isr];
    this.isrProposed = [];
    this.followers.clear();
    this.failWaiters(() => new SluiceError(ErrorCode.NotLeader, `${this.name} is now led by broker ${leaderId}`));
  }

  /**
   * The replica set changed at the same leader epoch (a partition
   * reassignment adds or removes replicas; see coordination/zookeeper/
   * reassignment.ts). As leader, added followers are tracked from their first
   * fetch (outside the ISR until they catch up) and removed ones are
   * forgotten; the ISR itself changes only through the coordinator.
   */
  updateReplicas(replicas: number[]): void {
    // a broker no longer among the replicas drops the partition instead (ReplicaManager.applyNow)
    assert(
      replicas.includes(this.brokerId),
      `${this.name}: broker ${this.brokerId} is not among replicas ${replicas.join()}`,
    );
    this.replicas = [...replicas];
    if (this.role !== 'leader') return;
    for (const id of [...this.followers.keys()]) if (!replicas.includes(id)) this.followers.delete(id);
    for (const id of replicas) {
      if (id === this.brokerId || this.followers.has(id)) continue;
      this.followers.set(id, {
        logEndOffset: -1,
        lastCaughtUpMs: 0,
        lastFetchLeaderLogEnd: -1,
        lastFetchMs: 0,
        logStartOffset: -1,
      });
    }
    this.maybeAdvanceHighWatermark();
    this.completeLowWatermarkWaiters();
  }

  becomeOffline(reason: string): void {
    this.role = 'offline';
    this.leaderId = -1;
    this.isrProposed = [];
    this.followers.clear();
    this.failWaiters(() => new SluiceError(ErrorCode.NotLeader, `${this.name} is offline here: ${reason}`));
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  /** The ISR as the coordinator reports it, same epoch (e.g. our own ISR write coming back). */
  setIsr(isr: number[]): void {
    assert(
      this.role !== 'leader' || isr.includes(this.brokerId),
      `${this.name}: leader ${this.brokerId} is outside its new ISR ${isr.join()}`,
    );
    this.isr = [...isr];
    if (this.role === 'leader') this.maybeAdvanceHighWatermark();
  }

  /**
   * The leader is about to write `isr` to the coordinator: until confirmed
   * (isrChangeConfirmed), its members hold the high watermark too.
   *
   * Asserted: the leader is a replica and in the ISR it proposes, and every
   * broker the change admits is a replica. Not asserted: the whole proposal ⊆
   * replicas. A reassignment's completion writes the new replicas before the
   * ISR without the removed ones (reassignment.ts), so for that moment (longer
   * if the controller fails in between) the current ISR may name brokers that
   * are no replicas any more; a shrink drops them (they are no followers, so
   * they lag), an expand keeps them until the controller's fence.
   */
  isrChangeProposed(isr: number[]): void {
    assert(isr.includes(this.brokerId), `${this.name}: the leader proposes an ISR without itself: ${isr.join()}`);
    assert(
      this.replicas.includes(this.brokerId),
      `${this.name}: leader ${this.brokerId} is not among replicas ${this.replicas.join()}`,
    );
    assert(
      isr.every((id) => this.isr.includes(id) || this.replicas.includes(id)),
      `${this.name}: the leader admits a broker that is no replica to the ISR: ${isr.join()} (replicas ${this.replicas.join()})`,
    );
    this.isrProposed = [...new Set([...this.isrProposed, ...isr])];
  }

  /** The coordinator holds `isr` (this leader's write succeeded): it alone is the ISR now. */
  isrChangeConfirmed(isr: number[]): void {
    this.isrProposed = [];
    this.setIsr(isr);
  }

  /** The ISR plus the members of unconfirmed ISR changes: whom the high watermark waits for. */
  get maximalIsr(): number[] {
    if (this.isrProposed.length === 0) return this.isr;
    return [...new Set([...this.isr, ...this.isrProposed])];
  }

  // ---- leader side ----

  /** After a leader append: with no other ISR member the high watermark follows the log end at once. */
  onLeaderAppend(): void {
    this.maybeAdvanceHighWatermark();
  }

  /**
   * A follower fetched at `fetchOffset`: it has everything before it. Returns
   * true when the follower should join the ISR (caught up to the high watermark).
   */
  onFollowerFetch(
    replicaId: number,
    fetchOffset: number,
    nowMs: number,
    logStartOffset = -1,
    link?: FollowerFetchLink,
  ): boolean {
    const progress = this.followers.get(replicaId);
    if (!progress) return false;
    // the session's fetches since we last recorded one held the same position: the last of them is
    // the previous fetch (Kafka's lastFetchTime), caught up if it had all the log had then
    const held = progress.link;
    if (held?.live && held.lastFetchMs > progress.lastFetchMs) {
      if (progress.lastFetchLeaderLogEnd >= 0 && progress.logEndOffset >= progress.lastFetchLeaderLogEnd) {
        progress.lastCaughtUpMs = Math.max(progress.lastCaughtUpMs, held.lastFetchMs);
      }
      progress.lastFetchMs = held.lastFetchMs;
    }
    progress.link = link;
    if (logStartOffset >= 0) progress.logStartOffset = logStartOffset;
    const leaderEnd = this.log.logEndOffset;
    // Kafka's rule: caught up now if at the log end; caught up at the previous fetch's time if it
    // reached what the log end was then
    if (fetchOffset >= leaderEnd) progress.lastCaughtUpMs = nowMs;
    else if (progress.lastFetchLeaderLogEnd >= 0 && fetchOffset >= progress.lastFetchLeaderLogEnd) {
      progress.lastCaughtUpMs = Math.max(progress.lastCaughtUpMs, progress.lastFetchMs);
    }
    progress.logEndOffset = fetchOffset;
    progress.lastFetchLeaderLogEnd = leaderEnd;
    progress.lastFetchMs = nowMs;
    this.maybeAdvanceHighWatermark();
    this.completeLowWatermarkWaiters();
    return (
      !this.isr.includes(replicaId) && fetchOffset >= this.highWatermark && this.leaderEpochStartReached(fetchOffset)
    );
  }

  /**
   * Why a follower's fetch at `fetchOffset`, whose last record belongs to
   * `lastFetchedEpoch`, does not continue this leader's log; undefined when
   * it may (or the follower did not say). A follower whose log is a prefix of
   * ours has its last record inside our history of that epoch, so holding a
   * later epoch than ours, or more of an epoch than we wrote, means it
   * diverged (or its fetch was built for another leader): such a fetch must
   * not count as replication progress (Kafka answers it with a diverging
   * epoch; here the follower truncates again).
   */
  followerDivergence(fetchOffset: number, lastFetchedEpoch: number): string | undefined {
    if (lastFetchedEpoch < 0) return undefined;
    if (lastFetchedEpoch > this.leaderEpoch) {
      return `the follower holds records of epoch ${lastFetchedEpoch}, past this leader's epoch ${this.leaderEpoch}`;
    }
    const ours = this.log.endOffsetForEpoch(lastFetchedEpoch);
    if (ours?.epoch === lastFetchedEpoch && fetchOffset > ours.endOffset) {
      return `the follower holds epoch ${lastFetchedEpoch} up to ${fetchOffset}, this leader only up to ${ours.endOffset}`;
    }
    return undefined;
  }

  /**
   * The leader holds (`held` true) or has answered (false) a long poll of
   * `replicaId` that found it at the log end. While held, the follower is
   * caught up (an append wakes the poll at once), so an idle follower may poll
   * for as long as replica.lag.time.max.ms without leaving the ISR; the fetch
   * handler releases it when the poll ends or the follower's connection closes.
   */
  followerPollHeld(replicaId: number, held: boolean, nowMs: number): void {
    const progress = this.followers.get(replicaId);
    if (!progress) return;
    const before = progress.pollsHeld ?? 0;
    // it was caught up until now: the append that ends the poll came just now (Kafka's lastCaughtUpTime)
    if (!held && before > 0) progress.lastCaughtUpMs = Math.max(progress.lastCaughtUpMs, nowMs);
    progress.pollsHeld = Math.max(0, before + (held ? 1 : -1));
  }

  /** A fetch of `replicaId` that did not count as progress (another epoch, a diverged log): its session no longer speaks for it. */
  unlinkFollower(replicaId: number): void {
    const progress = this.followers.get(replicaId);
    if (progress) progress.link = undefined;
  }

  /** A follower joins the ISR only once it has reached the start of the current leader epoch. */
  private leaderEpochStartReached(fetchOffset: number): boolean {
    const entry = this.log.epochHistory.find(([epoch]) => epoch === this.leaderEpoch);
    return entry === undefined || fetchOffset >= entry[1];
  }

  /**
   * ISR members (proposed ones included: they hold the high watermark too)
   * that have not caught up within `lagMaxMs` (never the leader itself).
   */
  laggingReplicas(nowMs: number, lagMaxMs: number): number[] {
    const out: number[] = [];
    for (const id of this.maximalIsr) {
      if (id === this.brokerId) continue;
      const progress = this.followers.get(id);
      // a follower whose long poll we hold at our log end has everything we have: it is not lagging
      if (progress && (progress.pollsHeld ?? 0) > 0 && progress.logEndOffset >= this.log.logEndOffset) continue;
      if (!progress) {
        out.push(id);
        continue;
      }
      // a session that holds the follower's position fetched since we recorded it: had the follower all
      // the log had when recorded, it still had when the session last fetched (an append since is read
      // on its next pass); a long poll held at our log end is caught up now
      let caughtUpMs = progress.lastCaughtUpMs;
      const link = progress.link;
      if (
        link?.live &&
        progress.lastFetchLeaderLogEnd >= 0 &&
        progress.logEndOffset >= progress.lastFetchLeaderLogEnd
      ) {
        if (link.polling && progress.logEndOffset >= this.log.logEndOffset) continue;
        caughtUpMs = Math.max(caughtUpMs, link.lastFetchMs);
      }
      if (nowMs - caughtUpMs > lagMaxMs) out.push(id);
    }
    return out;
  }

  private maybeAdvanceHighWatermark(): void {
    if (this.role !== 'leader') return;
    let hw = this.log.logEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.brokerId) continue;
      const progress = this.followers.get(id);
      // an ISR member we have not heard from yet holds the high watermark where it is
      const end = progress ? progress.logEndOffset : -1;
      if (end < hw) hw = end;
    }
    this.raiseHighWatermark(hw);
    this.completeWaiters();
  }

  /**
   * Resolves when every ISR member has the records below `requiredOffset`
   * (acks=-1). Rejects with NotEnoughReplicasAfterAppend when the ISR has
   * shrunk below `minIsr` by then, NotLeader when leadership moves, Timeout
   * after `timeoutMs`.
   */
  waitForReplication(requiredOffset: number, minIsr: number, timeoutMs: number): Promise<void> {
    if (this.role !== 'leader') {
      return Promise.reject(
        new SluiceError(ErrorCode.NotLeader, `broker ${this.brokerId} no longer leads ${this.name}`),
      );
    }
    if (this.waiters.length >= ackWaitersPerPartitionMax) {
      return Promise.reject(
        new SluiceError(ErrorCode.Timeout, `${this.name}: too many acks=-1 requests waiting for replication`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: AckWaiter = {
        requiredOffset,
        minIsr,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new SluiceError(
              ErrorCode.Timeout,
              `${this.name}: the in-sync replicas did not confirm offset ${requiredOffset - 1} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      this.completeWaiters();
    });
  }

  private completeWaiters(): void {
    if (this.waiters.length === 0) return;
    const hw = this.highWatermark;
    const still: AckWaiter[] = [];
    for (const w of this.waiters) {
      if (w.requiredOffset > hw) {
        still.push(w);
        continue;
      }
      clearTimeout(w.timer);
      if (this.isr.length < w.minIsr) {
        w.reject(
          new SluiceError(
            ErrorCode.NotEnoughReplicasAfterAppend,
            `${this.name}: appended, but the ISR shrank to ${this.isr.length} (min.insync.replicas is ${w.minIsr}) before it was replicated`,
          ),
        );
      } else {
        w.resolve();
      }
    }
    this.waiters = still;
  }

  /**
   * The error is made only when someone waits: a stop takes 10,000 partitions offline, and an
   * error (with its stack) for each took a quarter of a second (issue 20 item 4).
   */
  private failWaiters(errorOf: () => Error): void {
    if (this.waiters.length === 0 && this.lowWatermarkWaiters.length === 0) return;
    const err = errorOf();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters = [];
    for (const w of this.lowWatermarkWaiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.lowWatermarkWaiters = [];
  }

  /**
   * The partition's low watermark (Kafka's lowWatermarkIfLeader): the
   * smallest log start among this leader and the followers on live brokers,
   * as their fetches reported it (a follower not heard from yet counts as -1).
   */
  lowWatermark(isAlive: (brokerId: number) => boolean): number {
    let low = this.log.logStartOffset;
    for (const [id, progress] of this.followers) {
      if (isAlive(id) && progress.logStartOffset < low) low = progress.logStartOffset;
    }
    return low;
  }

  /**
   * A follower's fetch that should be answered at once: the leader's log
   * start is past the one the follower reported, so a DeleteRecords waits for
   * it to learn the new start (rather than for its long poll to run out).
   */
  followerBehindLogStart(replicaId: number, reportedLogStart: number): boolean {
    return (
      this.role === 'leader' &&
      this.lowWatermarkWaiters.length > 0 &&
      reportedLogStart >= 0 &&
      reportedLogStart < this.log.logStartOffset &&
      this.followers.has(replicaId)
    );
  }

  /**
   * DeleteRecords after the leader moved its log start (Kafka's
   * DelayedDeleteRecords): resolves once the low watermark reaches
   * `requiredOffset` ({reached: true}), or after `timeoutMs` with the low
   * watermark then ({reached: false}); rejects with NotLeader when leadership
   * moves, Timeout at once when too many wait.
   */
  waitForLowWatermark(
    requiredOffset: number,
    timeoutMs: number,
    isAlive: (brokerId: number) => boolean,
  ): Promise<{ lowWatermark: number; reached: boolean }> {
    if (this.role !== 'leader') {
      return Promise.reject(
        new SluiceError(ErrorCode.NotLeader, `broker ${this.brokerId} no longer leads ${this.name}`),
      );
    }
    const now = this.lowWatermark(isAlive);
    if (now >= requiredOffset) return Promise.resolve({ lowWatermark: now, reached: true });
    if (this.lowWatermarkWaiters.length >= deleteRecordsWaitersPerPartitionMax) {
      return Promise.reject(
        new SluiceError(ErrorCode.Timeout, `${this.name}: too many DeleteRecords requests waiting for the replicas`),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: LowWatermarkWaiter = {
        requiredOffset,
        isAlive,
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.lowWatermarkWaiters = this.lowWatermarkWaiters.filter((w) => w !== waiter);
            resolve({ lowWatermark: this.lowWatermark(isAlive), reached: false });
          },
          Math.max(timeoutMs, 0),
        ),
      };
      this.lowWatermarkWaiters.push(waiter);
    });
  }

  private completeLowWatermarkWaiters(): void {
    if (this.lowWatermarkWaiters.length === 0 || this.role !== 'leader') return;
    this.lowWatermarkWaiters = this.lowWatermarkWaiters.filter((w) => {
      const low = this.lowWatermark(w.isAlive);
      if (low < w.requiredOffset) return true;
      clearTimeout(w.timer);
      w.resolve({ lowWatermark: low, reached: true });
      return false;
    });
  }

  // ---- follower side ----

  /** The leader's high watermark from a fetch response, capped by what this replica has. */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    this.raiseHighWatermark(Math.min(leaderHighWatermark, this.log.logEndOffset));
  }

  /**
   * The one way the high watermark goes up (as leader and as follower): never
   * past what this replica has. Only capHighWatermark lowers it, after a
   * follower's truncation.
   */
  private raiseHighWatermark(hw: number): void {
    assert(hw <= this.log.logEndOffset, `${this.name}: high watermark ${hw} above log end ${this.log.logEndOffset}`);
    if (hw <= this.hw) return;
    this.hw = hw;
    this.log.noteHighWatermark(hw);
    this.onHighWatermark();
  }

  /** After truncation the high watermark cannot be above the log end. */
  capHighWatermark(): void {
    if (this.hw > this.log.logEndOffset) this.hw = this.log.logEndOffset;
    this.log.noteHighWatermark(this.hw);
  }

  close(reason: string): void {
    this.becomeOffline(reason);
  }
}
