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
 */

import { randomInt } from 'node:crypto';
import type { FetchResponse } from '../protocol/native/messages.js';
import { fetchSessionPartitionsMax, fetchSessionsMax } from '../shared/limits.js';
import type { HandlerContext } from './context.js';

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

interface SessionPartition {
  wanted: Wanted;
  /** The high watermark and log start last answered for this partition (undefined: never answered). */
  sentHw?: number;
  sentLogStart?: number;
}

export interface FetchSession {
  id: number;
  /** The epoch the next incremental fetch must carry. */
  nextEpoch: number;
  replicaId: number;
  partitions: Map<string, SessionPartition>;
}

/** The connection a session belongs to (fetch.ts's PollingConnection). */
interface SessionHolder {
  session?: FetchSession;
}

/** Sessions alive in this process (each belongs to one open connection). */
let liveSessions = 0;

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

export function dropSession(holder: SessionHolder): void {
  if (holder.session === undefined) return;
  holder.session = undefined;
  liveSessions--;
}

/**
 * A new session for a full fetch of `wanted` (it replaces the connection's old one); undefined
 * when the leader holds fetchSessionsMax sessions already or the fetch names too many partitions.
 */
export function newSession(
  holder: SessionHolder,
  replicaId: number,
  wanted: readonly Wanted[],
): FetchSession | undefined {
  dropSession(holder);
  if (liveSessions >= fetchSessionsMax || wanted.length > fetchSessionPartitionsMax) return undefined;
  const session: FetchSession = {
    id: randomInt(1, epochMax),
    nextEpoch: 1,
    replicaId,
    partitions: new Map(wanted.map((w) => [keyOfWanted(w), { wanted: w }])),
  };
  holder.session = session;
  liveSessions++;
  return session;
}

/** Adds or updates the partitions an incremental fetch names; false when the session would grow too large. */
export function upsertPartitions(session: FetchSession, wanted: readonly Wanted[]): boolean {
  for (const w of wanted) {
    const key = keyOfWanted(w);
    const known = session.partitions.get(key);
    if (known) known.wanted = w;
    else session.partitions.set(key, { wanted: w });
  }
  return session.partitions.size <= fetchSessionPartitionsMax;
}

export function forgetPartitions(
  session: FetchSession,
  forgotten: readonly { name: string; topicId?: string; partitions: number[] }[],
): void {
  for (const t of forgotten) for (const p of t.partitions) session.partitions.delete(sessionKey(t.name, t.topicId, p));
}

export function sessionWanted(session: FetchSession): Wanted[] {
  return [...session.partitions.values()].map((sp) => sp.wanted);
}

export function namedKeys(wanted: readonly Wanted[]): Set<string> {
  return new Set(wanted.map(keyOfWanted));
}

/**
 * True when a session partition has nothing to say: led here under the epoch the follower
 * follows, the follower at our log end, and the high watermark and log start it was last told
 * unchanged. Its fetch still counts as the follower's progress (ISR joins and the high
 * watermark move as on a full fetch); only the read and the answer are saved.
 */
export function quietInSession(
  ctx: HandlerContext,
  w: Wanted,
  sentHw: number | undefined,
  sentLogStart: number | undefined,
  replicaId: number,
): boolean {
  if (w.topic === undefined || sentHw === undefined) return false;
  const leader = ctx.replicas.replica(w.topic, w.partition);
  if (leader?.role !== 'leader') return false;
  if (w.leaderEpoch !== undefined && w.leaderEpoch !== leader.leaderEpoch) return false;
  if (w.topicId !== undefined && leader.topicId !== undefined && w.topicId !== leader.topicId) return false;
  if (w.offset !== leader.log.logEndOffset) return false;
  if (leader.followerDivergence(w.offset, w.lastFetchedEpoch) !== undefined) return false;
  ctx.replicas.onFollowerFetch(leader, replicaId, w.offset, w.logStartOffset);
  return leader.highWatermark === sentHw && leader.log.logStartOffset === sentLogStart;
}

/** The session partitions one pass reads: those named by this fetch and those with something to say. */
export function partitionsToRead(
  ctx: HandlerContext,
  session: FetchSession,
  named: ReadonlySet<string> | undefined,
  replicaId: number,
): Wanted[] {
  const out: Wanted[] = [];
  for (const [key, sp] of session.partitions) {
    if (named?.has(key) || !quietInSession(ctx, sp.wanted, sp.sentHw, sp.sentLogStart, replicaId)) out.push(sp.wanted);
  }
  return out;
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
        sp.sentLogStart !== p.logStartOffset;
      if (answered && sp !== undefined) {
        // an error is answered again on each fetch while it lasts (the follower drops the partition)
        sp.sentHw = p.errorCode === 0 ? p.highWatermark : undefined;
        sp.sentLogStart = p.errorCode === 0 ? p.logStartOffset : undefined;
      }
      return answered;
    });
    if (partitions.length > 0) topics.push({ ...t, partitions });
  }
  return { ...response, topics };
}
