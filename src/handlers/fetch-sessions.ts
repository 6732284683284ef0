/**
 * Replica fetch sessions (the idea of Kafka's KIP-227, for Sluice's own
 * follower fetches): a leader remembers, per follower connection, the
 * partitions the follower fetches and the position it last named for each,
 * so an incremental fetch names only partitions that were added or whose
 * position changed, and its answer carries only partitions with records, an
 * error, or a high watermark or log start the follower has not been told.
 * Without it every follower fetch names, and every answer carries, every
 * partition followed: creating N partitions cost O(N) per fetch, O(N²) in all.
 *
 * A session belongs to one connection and ends with it (a follower that
 * reconnects, or a leader that restarted, starts with a full fetch). They are
 * bounded in number (fetchSessionsMax: none is made beyond it, the follower
 * keeps sending full fetches) and in partitions (fetchSessionPartitionsMax:
 * beyond it the session is dropped). The handler answers an unknown session
 * FETCH_SESSION_ID_NOT_FOUND and a wrong epoch INVALID_FETCH_SESSION_EPOCH;
 * the follower then sends a full fetch, which makes a new session.
 *
 * A pass over a session is incremental too: each session partition is
 * subscribed to the append notifier (appends, high watermark, log start and
 * role changes), and a pass reads only the partitions notified since the last
 * one, those the fetch names, and those the last pass left with something to
 * say; the others are not touched. The follower's progress on an untouched
 * partition stays true through its link to the session (FollowerFetchLink):
 * the session's fetch times count as the follower's, so a follower caught up
 * at the log end stays caught up for the ISR without a walk over its partitions.
 */

import { randomInt } from 'node:crypto';
import type { FetchResponse } from '../protocol/native/messages.js';
import type { FollowerFetchLink } from '../replication/partition-replica.js';
import { fetchSessionPartitionsMax, fetchSessionsMax } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import type { FetchSessionCount, HandlerContext } from './context.js';

/** A partition a fetch asks for, resolved (fetch.ts). */
export interface Wanted {
  /** The topic's name; undefined when the request named it by an id no topic has. */
  topic: string | undefined;
  /** The id the request named the topic by (Kafka's Fetch v13+), answered back with it. */
  topicId: string | undefined;
  partition: number;
  offset: number;
  maxBytes: number;
  /** Followers only: the leader epoch they follow. */
  leaderEpoch: number | undefined;
  /** A follower's last record's epoch (-1 or absent: unknown). */
  lastFetchedEpoch: number;
  /** Followers only: their log start (-1: not sent). */
  logStartOffset: number;
}

/** A partition of a session; it speaks for the follower's progress while it is in the session. */
class SessionPartition implements FollowerFetchLink {
  /** The high watermark and log start last answered for this partition (undefined: never answered). */
  sentHw?: number;
  sentLogStart?: number;
  /** The last stable offset last answered: a marker moves it without moving the high watermark (issue 21). */
  sentLso?: number;
  inSession = true;
  unsubscribe: (() => void) | undefined;

  constructor(
    readonly session: FetchSession,
    public wanted: Wanted,
  ) {}

  get live(): boolean {
    return this.inSession && this.session.open;
  }

  get lastFetchMs(): number {
    return this.session.lastFetchMs;
  }

  get polling(): boolean {
    return this.session.pollsHeld > 0;
  }
}

export interface FetchSession {
  id: number;
  /** The epoch the next incremental fetch must carry. */
  nextEpoch: number;
  replicaId: number;
  partitions: Map<string, SessionPartition>;
  /** Partitions notified since the last pass began (appended to, high watermark, log start or role changed). */
  dirty: Set<string>;
  /** Partitions the last pass read that still had something to say: read again on the next. */
  pending: Set<string>;
  /** False once dropped. */
  open: boolean;
  /** When the follower last fetched: the start of the last pass that completed, or the end of a held poll. */
  lastFetchMs: number;
  /** Long polls of this session held now. */
  pollsHeld: number;
  /** Wakes the session's long polls (a notification came). */
  wakers: Set<() => void>;
  registry: FetchSessionCount;
}

/** The connection a session belongs to (fetch.ts's PollingConnection). */
interface SessionHolder {
  session?: FetchSession;
}

const epochMax = 0x7fff_ffff;

/** The epoch after `epoch` (1 after the int32 maximum, as Kafka wraps). */
export function followingEpoch(epoch: number): number {
  return epoch >= epochMax ? 1 : epoch + 1;
}

/** A partition as a fetch names it: by topic id when it has one (the answer is keyed the same way). */
export function sessionKey(topic: string | undefined, topicId: string | undefined, partition: number): string {
  return topicId === undefined ? `n:${topic}:${partition}` : `i:${topicId}:${partition}`;
}

const keyOfWanted = (w: Wanted): string => sessionKey(w.topic, w.topicId, w.partition);

function removePartition(sp: SessionPartition): void {
  sp.inSession = false;
  sp.unsubscribe?.();
  sp.unsubscribe = undefined;
}

export function dropSession(holder: SessionHolder): void {
  const session = holder.session;
  if (session === undefined) return;
  holder.session = undefined;
  session.open = false;
  for (const sp of session.partitions.values()) removePartition(sp);
  session.partitions.clear();
  session.dirty.clear();
  session.pending.clear();
  for (const wake of [...session.wakers]) wake();
  session.registry.live--;
}

/** Adds a partition to the session, subscribed to its notifications. */
function addPartition(ctx: HandlerContext, session: FetchSession, key: string, w: Wanted): void {
  const sp = new SessionPartition(session, w);
  if (w.topic !== undefined) {
    sp.unsubscribe = ctx.notifier.subscribe(topicPartitionKey(w.topic, w.partition), () => {
      session.dirty.add(key);
      for (const wake of [...session.wakers]) wake();
    });
  }
  session.partitions.set(key, sp);
}

/**
 * A new session for a full fetch of `wanted` (it replaces the connection's old one); undefined
 * when the leader holds fetchSessionsMax sessions already or the fetch names too many partitions.
 */
export function newSession(
  ctx: HandlerContext,
  holder: SessionHolder,
  replicaId: number,
  wanted: readonly Wanted[],
): FetchSession | undefined {
  dropSession(holder);
  const registry = ctx.fetchSessions;
  if (registry.live >= fetchSessionsMax || wanted.length > fetchSessionPartitionsMax) return undefined;
  const session: FetchSession = {
    id: randomInt(1, epochMax),
    nextEpoch: 1,
    replicaId,
    partitions: new Map(),
    dirty: new Set(),
    pending: new Set(),
    open: true,
    lastFetchMs: 0,
    pollsHeld: 0,
    wakers: new Set(),
    registry,
  };
  for (const w of wanted) {
    const key = keyOfWanted(w);
    const known = session.partitions.get(key);
    if (known) known.wanted = w;
    else addPartition(ctx, session, key, w);
  }
  holder.session = session;
  registry.live++;
  return session;
}

/** Adds or updates the partitions an incremental fetch names; false when the session would grow too large. */
export function upsertPartitions(ctx: HandlerContext, session: FetchSession, wanted: readonly Wanted[]): boolean {
  for (const w of wanted) {
    const key = keyOfWanted(w);
    const known = session.partitions.get(key);
    if (known) known.wanted = w;
    else addPartition(ctx, session, key, w);
  }
  return session.partitions.size <= fetchSessionPartitionsMax;
}

export function forgetPartitions(
  session: FetchSession,
  forgotten: readonly { name: string; topicId?: string; partitions: number[] }[],
): void {
  for (const t of forgotten) {
    for (const p of t.partitions) {
      const key = sessionKey(t.name, t.topicId, p);
      const sp = session.partitions.get(key);
      if (!sp) continue;
      removePartition(sp);
      session.partitions.delete(key);
      session.dirty.delete(key);
      session.pending.delete(key);
    }
  }
}

/** The session partition a fetch of `w` reads (its link for the follower's progress). */
export function linkOf(session: FetchSession, w: Wanted): FollowerFetchLink | undefined {
  return session.partitions.get(keyOfWanted(w));
}

export function namedKeys(wanted: readonly Wanted[]): Set<string> {
  return new Set(wanted.map(keyOfWanted));
}

/**
 * True when a session partition has nothing to say: led here under the epoch the follower
 * follows, the follower in the ISR and at our log end, and the high watermark and log start
 * it was last told unchanged. It is read again only once notified or named.
 */
function quietInSession(ctx: HandlerContext, sp: SessionPartition, replicaId: number): boolean {
  const w = sp.wanted;
  if (w.topic === undefined || sp.sentHw === undefined) return false;
  const leader = ctx.replicas.replica(w.topic, w.partition);
  if (leader?.role !== 'leader') return false;
  if (w.leaderEpoch !== undefined && w.leaderEpoch !== leader.leaderEpoch) return false;
  if (w.topicId !== undefined && leader.topicId !== undefined && w.topicId !== leader.topicId) return false;
  if (w.offset !== leader.log.logEndOffset) return false;
  // a follower outside the ISR is read on each pass until it joins (as a full fetch would)
  if (!leader.isr.includes(replicaId)) return false;
  return leader.highWatermark === sp.sentHw && leader.log.logStartOffset === sp.sentLogStart;
}

/** A pass over a session: what it reads, and when it began. */
export interface SessionPass {
  keys: string[];
  wanted: Wanted[];
  startedMs: number;
}

/**
 * The session partitions one pass reads: those named by this fetch, those notified since the
 * last pass, and those the last pass left with something to say. O(those), not O(session).
 */
export function partitionsToRead(session: FetchSession, named: ReadonlySet<string> | undefined): SessionPass {
  const startedMs = Date.now();
  const keys = new Set<string>(named);
  for (const key of session.dirty) keys.add(key);
  for (const key of session.pending) keys.add(key);
  session.dirty.clear();
  const pass: SessionPass = { keys: [], wanted: [], startedMs };
  for (const key of keys) {
    const sp = session.partitions.get(key);
    if (!sp) continue;
    pass.keys.push(key);
    pass.wanted.push(sp.wanted);
  }
  return pass;
}

/**
 * A pass read `keys` (started at `startedMs`): those still with something to say are read on the
 * next pass too; the follower fetched at `startedMs` (its progress on the untouched partitions).
 */
export function passDone(ctx: HandlerContext, session: FetchSession, keys: Iterable<string>, startedMs: number): void {
  if (!session.open) return;
  session.pending.clear();
  for (const key of keys) {
    const sp = session.partitions.get(key);
    if (sp && !quietInSession(ctx, sp, session.replicaId)) session.pending.add(key);
  }
  session.lastFetchMs = Math.max(session.lastFetchMs, startedMs);
}

/** After the answer: the pending partitions it told all there was to tell are quiet now. */
export function answered(ctx: HandlerContext, session: FetchSession): void {
  for (const key of [...session.pending]) {
    const sp = session.partitions.get(key);
    if (!sp || quietInSession(ctx, sp, session.replicaId)) session.pending.delete(key);
  }
}

/** The leader holds a long poll of the session (the follower is at its positions while held); returns the release. */
export function holdSessionPoll(session: FetchSession): () => void {
  session.pollsHeld++;
  return () => {
    session.pollsHeld--;
    // held until now: the follower fetched now (an append that ends the poll came just now)
    session.lastFetchMs = Math.max(session.lastFetchMs, Date.now());
  };
}

/** The session's long poll waiter: woken by a notification of any of its partitions (none missed since the pass began). */
export function sessionWaiter(session: FetchSession): {
  woken(ms: number): Promise<void>;
  wakeNow(): void;
  cancel(): void;
} {
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let fired = false;
  const wakeNow = (): void => {
    fired = true;
    wake?.();
  };
  session.wakers.add(wakeNow);
  return {
    wakeNow,
    woken(ms) {
      if (fired || session.dirty.size > 0 || !session.open) return Promise.resolve();
      return new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    },
    cancel() {
      session.wakers.delete(wakeNow);
      if (timer !== undefined) clearTimeout(timer);
      wake = undefined;
    },
  };
}

/**
 * The answer an incremental fetch gets: partitions named by it, with records, with an error, or
 * whose high watermark or log start the follower has not been told; each answered one is recorded.
 * `named` undefined (a full fetch): everything is answered.
 */
export function answerInSession(
  session: FetchSession,
  response: FetchResponse,
  named: ReadonlySet<string> | undefined,
): FetchResponse {
  const topics: FetchResponse['topics'] = [];
  for (const t of response.topics) {
    const partitions = t.partitions.filter((p) => {
      const sp = session.partitions.get(sessionKey(t.name, t.topicId, p.partition));
      const answered =
        named === undefined ||
        named.has(sessionKey(t.name, t.topicId, p.partition)) ||
        p.errorCode !== 0 ||
        p.records.length > 0 ||
        sp === undefined ||
        sp.sentHw !== p.highWatermark ||
        sp.sentLogStart !== p.logStartOffset ||
        sp.sentLso !== p.lastStableOffset;
      if (answered && sp !== undefined) {
        // an error is answered again on each fetch while it lasts (the follower drops the partition)
        sp.sentHw = p.errorCode === 0 ? p.highWatermark : undefined;
        sp.sentLogStart = p.errorCode === 0 ? p.logStartOffset : undefined;
        sp.sentLso = p.errorCode === 0 ? p.lastStableOffset : undefined;
      }
      return answered;
    });
    if (partitions.length > 0) topics.push({ ...t, partitions });
  }
  return { ...response, topics };
}
