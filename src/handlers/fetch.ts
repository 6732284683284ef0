/**
 * Fetch: reads whole batches from many partitions, bounded by maxBytes overall
 * and per partition (the first batch always goes, Kafka's KIP-74), and long
 * polls up to maxWaitMs for minBytes, woken by appends and high watermark
 * moves — never a polling loop.
 *
 * Consumers read from the leader up to the high watermark (what every in-sync
 * replica has). A follower (`replicaId` set) reads up to the log end, and the
 * offset it asks for tells the leader how far it has replicated.
 *
 * Authorization is Kafka's (KafkaApis.handleFetchRequest): a consumer needs
 * Read on each topic (TOPIC_AUTHORIZATION_FAILED on that topic's partitions);
 * a follower needs ClusterAction on the cluster, and without it every
 * partition it named is answered TOPIC_AUTHORIZATION_FAILED at once (the
 * request itself is not refused, and nothing is read or recorded). A Kafka
 * client's Fetch naming a replica_id is authorized the same way, then served
 * as a consumer's (Sluice replicates over the native protocol).
 */

import { isGroupRefusal } from '../groups/group.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { FetchPartitionResponse, FetchRequest, FetchResponse } from '../protocol/native/messages.js';
import type { PartitionReplica } from '../replication/partition-replica.js';
import { ResourceType } from '../security/acl.js';
import { ErrorCode, SluiceError, toWireError } from '../shared/errors.js';
import { abortedTxnsPerFetchMax, fetchWaitMsMax, readBytesMax } from '../shared/limits.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { isCorruptRangeError } from '../storage/corrupt-range.js';
import { AclOperation, allowed, allowedOnCluster } from './authorize.js';
import { bad, type ClientInfo, type FetchSessionCount, type Handler, type HandlerContext } from './context.js';
import {
  answered,
  answerInSession,
  dropSession,
  type FetchSession,
  followingEpoch,
  forgetPartitions,
  holdSessionPoll,
  linkOf,
  namedKeys,
  newSession,
  partitionsToRead,
  passDone,
  sessionWaiter,
  upsertPartitions,
  type Wanted,
} from './fetch-sessions.js';
import { orWireError } from './per-partition.js';

const empty = Buffer.alloc(0);

/**
 * A partition answered with an error (this broker no longer leads it, or the
 * follower's leader epoch is fenced): a follower's fetch returns at once
 * rather than long-polling the others (Kafka's DelayedFetch completes on it
 * too), so the follower learns of the leadership change without waiting
 * replica.fetch.wait.max.ms.
 */
function hasPartitionError(response: FetchResponse): boolean {
  return response.topics.some((t) => t.partitions.some((p) => p.errorCode !== 0));
}

/** Why a follower's fetch of `w` does not count as progress on `leader`; undefined when it does. */
function followerRefusal(leader: PartitionReplica, w: Wanted): SluiceError | undefined {
  if (w.leaderEpoch !== undefined && w.leaderEpoch !== leader.leaderEpoch) {
    return new SluiceError(
      w.leaderEpoch < leader.leaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.NotLeader,
      `${leader.name}: follower epoch ${w.leaderEpoch}, leader epoch ${leader.leaderEpoch}`,
    );
  }
  // a follower of another topic of this name (deleted and created again; one of us has not caught
  // up yet): its leader epochs start at 0 as ours do, so only the topic id tells the logs apart
  if (w.topicId !== undefined && leader.topicId !== undefined && w.topicId !== leader.topicId) {
    return new SluiceError(
      ErrorCode.UnknownTopicId,
      `${leader.name}: this broker's replica belongs to topic id ${leader.topicId}, not ${w.topicId}`,
    );
  }
  // a follower whose log does not continue ours (it holds a newer epoch's records, or more of an
  // epoch than we wrote) proves nothing about what it has of our log: it truncates first
  const diverged = leader.followerDivergence(w.offset, w.lastFetchedEpoch);
  return diverged === undefined ? undefined : new SluiceError(ErrorCode.NotLeader, `${leader.name}: ${diverged}`);
}

async function readOnce(
  ctx: HandlerContext,
  wanted: Wanted[],
  maxBytes: number,
  replicaId: number,
  zstdReadable: boolean,
  denied: ReadonlySet<string>,
  session?: FetchSession,
  readCommitted = false,
): Promise<{ response: FetchResponse; bytes: number }> {
  let bytes = 0;
  const byTopic = new Map<string, { name: string; topicId?: string; partitions: FetchPartitionResponse[] }>();
  for (const w of wanted) {
    const topic = w.topic;
    const replica = topic === undefined ? undefined : ctx.replicas.replica(topic, w.partition);
    const entry = await orWireError<FetchPartitionResponse>(
      async () => {
        // Kafka 3.x answers an id it does not know (the zero UUID too) on each of its partitions
        if (topic === undefined) throw new SluiceError(ErrorCode.UnknownTopicId, `no topic has id ${w.topicId}`);
        if (denied.has(topic)) {
          throw new SluiceError(ErrorCode.TopicAuthorizationFailed, `not authorized to Read topic ${topic}`);
        }
        const leader = ctx.replicas.leaderReplica(topic, w.partition);
        if (replicaId >= 0) {
          const refused = followerRefusal(leader, w);
          if (refused) {
            // this fetch is no progress: a session no longer speaks for the follower here
            leader.unlinkFollower(replicaId);
            throw refused;
          }
          ctx.replicas.onFollowerFetch(
            leader,
            replicaId,
            w.offset,
            w.logStartOffset,
            session ? linkOf(session, w) : undefined,
          );
        }
        // Kafka's rule (KIP-110) looks at the topic's codec, not at the batches: a reader without zstd
        // gets none of a zstd topic, while a `producer` topic's zstd batches go out as stored
        if (!zstdReadable && ctx.replicas.compressionTypeOf(topic) === 'zstd') {
          throw new SluiceError(
            ErrorCode.UnsupportedCompression,
            `${leader.name} is stored in zstd, which this fetch cannot read`,
          );
        }
        const room = Math.min(w.maxBytes, maxBytes - bytes);
        // a consumer reads to the high watermark, with read_committed to the last stable offset (KIP-98)
        const lastStableOffset = leader.lastStableOffset;
        const upTo = readCommitted ? lastStableOffset : leader.highWatermark;
        let read: Awaited<ReturnType<typeof leader.log.read>>;
        try {
          read = await leader.log.read(w.offset, Math.max(room, 0), {
            minOneBatch: bytes === 0,
            ...(replicaId >= 0 ? {} : { maxOffset: upTo }),
          });
        } catch (err) {
          if (!isCorruptRangeError(err)) throw err;
          // corrupt bytes are never served; the reader is told where it can go on (a skip is its choice)
          return {
            partition: w.partition,
            ...toWireError(err),
            highWatermark: leader.highWatermark,
            logStartOffset: leader.log.logStartOffset,
            records: empty,
            nextReadableOffset: err.nextReadableOffset,
          };
        }
        bytes += read.records.length;
        if (replicaId < 0) ctx.metrics?.fetched(topic, read.records);
        // the aborted transactions these records overlap: a read_committed reader drops their batches
        const abortedTransactions =
          readCommitted && replicaId < 0 && read.records.length > 0
            ? (await leader.log.abortedTxns(w.offset, read.nextOffset, abortedTxnsPerFetchMax)).map((t) => ({
                producerId: t.producerId,
                firstOffset: t.firstOffset,
              }))
            : undefined;
        return {
          partition: w.partition,
          errorCode: 0,
          highWatermark: leader.highWatermark,
          lastStableOffset,
          logStartOffset: read.logStartOffset,
          records: read.records,
          ...(readCommitted && replicaId < 0 ? { abortedTransactions: abortedTransactions ?? [] } : {}),
        };
      },
      (error) => ({
        partition: w.partition,
        ...error,
        highWatermark: replica?.highWatermark ?? -1,
        logStartOffset: replica?.log.logStartOffset ?? -1,
        records: empty,
      }),
    );
    // a topic named by id is answered by id (even when the same topic is also named by name)
    const key = w.topicId === undefined ? `n:${w.topic}` : `i:${w.topicId}`;
    let answer = byTopic.get(key);
    if (!answer) {
      answer = { name: topic ?? '', ...(w.topicId === undefined ? {} : { topicId: w.topicId }), partitions: [] };
      byTopic.set(key, answer);
    }
    answer.partitions.push(entry);
  }
  return { response: { errorCode: 0, topics: [...byTopic.values()] }, bytes };
}

/** Every topic's name by its id, when the request names any topic by id (Kafka's Fetch v13+). */
function topicNamesById(request: FetchRequest, ctx: HandlerContext): Map<string, string> {
  const names = new Map<string, string>();
  if (!request.topics.some((t) => t.topicId !== undefined)) return names;
  for (const spec of ctx.coordinator.topics()) if (spec.topicId !== undefined) names.set(spec.topicId, spec.name);
  return names;
}

/** A follower's fetch names a partition whose leader waits for the follower to learn its new log start. */
function followerBehindLogStart(ctx: HandlerContext, wanted: Wanted[], replicaId: number): boolean {
  if (replicaId < 0) return false;
  return wanted.some(
    (w) =>
      w.topic !== undefined &&
      ctx.replicas.replica(w.topic, w.partition)?.followerBehindLogStart(replicaId, w.logStartOffset),
  );
}

/** A follower's fetch without ClusterAction (Kafka's): every partition TOPIC_AUTHORIZATION_FAILED, none read. */
function followerRefused(wanted: Wanted[], principal: string): FetchResponse {
  const error = toWireError(
    new SluiceError(ErrorCode.TopicAuthorizationFailed, `${principal} is not authorized to ClusterAction the cluster`),
  );
  const byTopic = new Map<string, { name: string; topicId?: string; partitions: FetchPartitionResponse[] }>();
  for (const w of wanted) {
    const key = w.topicId === undefined ? `n:${w.topic}` : `i:${w.topicId}`;
    let answer = byTopic.get(key);
    if (!answer) {
      answer = { name: w.topic ?? '', ...(w.topicId === undefined ? {} : { topicId: w.topicId }), partitions: [] };
      byTopic.set(key, answer);
    }
    answer.partitions.push({ partition: w.partition, ...error, highWatermark: -1, logStartOffset: -1, records: empty });
  }
  return { errorCode: 0, topics: [...byTopic.values()] };
}

/** An incremental fetch the leader cannot serve: the follower sends a full fetch next. */
function sessionRefused(code: ErrorCode, message: string): FetchResponse {
  return { ...toWireError(new SluiceError(code, message)), topics: [], sessionId: 0 };
}

/** A group member's fetch names its generation and member id too (the shape cannot say "required with groupId"). */
function membership(request: FetchRequest): { generationId: number; memberId: string } {
  if (request.generationId === undefined) throw bad('generationId must be an integer');
  if (request.memberId === undefined) throw bad('memberId must be a string');
  return { generationId: request.generationId, memberId: request.memberId };
}

/** An append waiter armed on `keys`: remembers an append that came before anyone waited on it. */
interface ArmedWaiter {
  /** Resolves at once if an append came since arming, else on the next one or after `ms`. */
  woken(ms: number): Promise<void>;
  /** Wakes the wait now (the connection closed). */
  wakeNow(): void;
  cancel(): void;
}

function armWaiter(ctx: HandlerContext, keys: readonly string[]): ArmedWaiter {
  let fired = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const wakeNow = (): void => {
    fired = true;
    wake?.();
  };
  const cancelWait = ctx.notifier.waitAny(keys, wakeNow);
  return {
    wakeNow,
    woken(ms) {
      if (fired) return Promise.resolve();
      return new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, ms);
      });
    },
    cancel() {
      cancelWait();
      if (timer !== undefined) clearTimeout(timer);
      wake = undefined;
    },
  };
}

/** A follower connection's long polls: woken and ended when it closes (its follower is gone). */
interface PollingConnection {
  closed: boolean;
  wakers: Set<() => void>;
  /** An endPolls request came: the poll under way (or the next one) answers at once. */
  cutPending: boolean;
  /** The connection's replica fetch session (one at most; it ends with the connection). */
  session?: FetchSession;
}

/**
 * Each broker's polling connections, by connection id. Connection ids are per broker, so the map is too
 * (two brokers in one process would otherwise share entries): keyed by the broker's fetch session
 * registry (HandlerContext.fetchSessions, one per broker), and gone with it.
 */
const pollingByBroker = new WeakMap<FetchSessionCount, Map<number, PollingConnection>>();

/**
 * The connection's entry in its broker's map, by connection id; removed when its connection closes, so
 * there is at most one per open connection.
 */
function pollingConnection(ctx: HandlerContext, client: ClientInfo): PollingConnection | undefined {
  let pollingConnections = pollingByBroker.get(ctx.fetchSessions);
  if (pollingConnections === undefined) {
    pollingConnections = new Map();
    pollingByBroker.set(ctx.fetchSessions, pollingConnections);
  }
  const known = pollingConnections.get(client.connectionId);
  if (known) return known;
  const entry: PollingConnection = { closed: false, wakers: new Set(), cutPending: false };
  try {
    client.onClose(() => {
      entry.closed = true;
      pollingConnections.delete(client.connectionId);
      dropSession(entry);
      for (const wake of [...entry.wakers]) wake();
    });
  } catch {
    // the connection's close listeners are used up (queue consumers): its polls end at their deadline
    return undefined;
  }
  if (!entry.closed) pollingConnections.set(client.connectionId, entry);
  return entry;
}

/**
 * Marks the follower caught up on each partition it fetched at our log end
 * while its long poll is held (PartitionReplica.followerPollHeld); returns the release.
 */
function holdAtLogEnd(ctx: HandlerContext, wanted: Wanted[], replicaId: number): () => void {
  const held: PartitionReplica[] = [];
  for (const w of wanted) {
    if (w.topic === undefined) continue;
    const replica = ctx.replicas.replica(w.topic, w.partition);
    if (replica?.role !== 'leader' || w.offset < replica.log.logEndOffset) continue;
    replica.followerPollHeld(replicaId, true, Date.now());
    held.push(replica);
  }
  return () => {
    const now = Date.now();
    for (const replica of held) replica.followerPollHeld(replicaId, false, now);
  };
}

export const fetchHandler: Handler<typeof ApiKey.Fetch> = {
  apiKey: ApiKey.Fetch,
  async handle(request, ctx, client): Promise<FetchResponse> {
    const { groupId } = request;
    if (groupId !== undefined && groupId !== '') {
      // a group member fetching for a generation that is over must rejoin first
      const { generationId, memberId } = membership(request);
      try {
        ctx.groups.checkMember(groupId, generationId, memberId);
      } catch (err) {
        if (!isGroupRefusal(err)) throw err;
        return {
          errorCode: toWireError(err).errorCode,
          errorMessage: `fetch refused: not a member of group ${groupId}'s current generation`,
          topics: [],
        };
      }
    }
    const replicaId = request.replicaId ?? -1;
    const readCommitted = request.isolationLevel === 1;
    const maxWaitMs = Math.min(Math.max(request.maxWaitMs ?? 0, 0), fetchWaitMsMax);
    const minBytes = Math.max(request.minBytes ?? 1, 0);
    const maxBytes = Math.min(Math.max(request.maxBytes ?? readBytesMax, 1), readBytesMax);
    const wanted: Wanted[] = [];
    const names = topicNamesById(request, ctx);
    for (const t of request.topics) {
      const topic = t.topicId === undefined ? t.name : names.get(t.topicId);
      for (const p of t.partitions) {
        wanted.push({
          topic,
          topicId: t.topicId,
          partition: p.partition,
          offset: p.fetchOffset,
          maxBytes: Math.min(Math.max(p.partitionMaxBytes ?? maxBytes, 1), readBytesMax),
          leaderEpoch: p.currentLeaderEpoch,
          lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
          logStartOffset: p.logStartOffset ?? -1,
        });
      }
    }
    // a Kafka-protocol follower is served as a consumer, but authorized as a follower (Kafka's rules)
    const follower = replicaId >= 0 || request.kafkaFollower === true;
    if (ctx.authorizer && follower && !allowedOnCluster(ctx, client, AclOperation.ClusterAction)) {
      return followerRefused(wanted, client.principal);
    }
    // a follower that added a partition cuts the long poll it has under way on this connection short
    if (replicaId >= 0 && request.endPolls === true) {
      const polling = pollingConnection(ctx, client);
      if (polling) {
        polling.cutPending = true;
        for (const wake of [...polling.wakers]) wake();
      }
      return { errorCode: 0, topics: [] };
    }
    // a follower's fetch session: a full fetch makes one, an incremental one names only what changed
    let session: FetchSession | undefined;
    let named: Set<string> | undefined;
    if (replicaId >= 0 && request.sessionId !== undefined) {
      const holder = pollingConnection(ctx, client);
      if (request.sessionId === 0) {
        session = holder ? newSession(ctx, holder, replicaId, wanted) : undefined;
      } else {
        const held = holder?.session;
        if (!holder || held?.id !== request.sessionId || held.replicaId !== replicaId) {
          return sessionRefused(ErrorCode.FetchSessionIdNotFound, `no fetch session ${request.sessionId} here`);
        }
        if (request.sessionEpoch !== held.nextEpoch) {
          dropSession(holder);
          return sessionRefused(
            ErrorCode.InvalidFetchSessionEpoch,
            `fetch session ${held.id} expects epoch ${held.nextEpoch}, not ${request.sessionEpoch}`,
          );
        }
        held.nextEpoch = followingEpoch(held.nextEpoch);
        forgetPartitions(held, request.forgotten ?? []);
        if (!upsertPartitions(ctx, held, wanted)) {
          dropSession(holder);
          return sessionRefused(ErrorCode.FetchSessionIdNotFound, `fetch session ${held.id} grew too large`);
        }
        session = held;
        named = namedKeys(wanted);
      }
    }
    // an incremental session fetch: each pass reads only what the fetch names, what was notified
    // since the last pass and what still has something to say (partitionsToRead), and waits on the
    // session's subscriptions; nothing is done per session partition
    const incremental = session !== undefined && named !== undefined ? session : undefined;
    // a consumer needs Read on each topic
    const denied = new Set<string>();
    if (ctx.authorizer && !follower) {
      for (const t of new Set(wanted.flatMap((w) => (w.topic === undefined ? [] : [w.topic])))) {
        if (!allowed(ctx, client, AclOperation.Read, ResourceType.Topic, t)) denied.add(t);
      }
    }
    const deadline = Date.now() + maxWaitMs;
    const zstdReadable = request.zstdReadable ?? true;
    const keys = incremental
      ? []
      : wanted.flatMap((w) => (w.topic === undefined ? [] : [topicPartitionKey(w.topic, w.partition)]));
    // the waiter is armed before each read: an append that lands while the read is under way (a later
    // partition's position comes from the index) wakes the next pass instead of being missed until maxWaitMs
    const polls = maxWaitMs > 0 && minBytes > 0;
    const arm = (): ArmedWaiter => (incremental ? sessionWaiter(incremental) : armWaiter(ctx, keys));
    let armed = polls ? arm() : undefined;
    // what the last pass read (all of `wanted` outside an incremental session fetch)
    let lastRead = wanted;
    const read = async (): Promise<{ response: FetchResponse; bytes: number }> => {
      if (!incremental) {
        const startedMs = Date.now();
        const result = await readOnce(ctx, wanted, maxBytes, replicaId, zstdReadable, denied, session, readCommitted);
        if (session) passDone(ctx, session, session.partitions.keys(), startedMs);
        return result;
      }
      const pass = partitionsToRead(incremental, named);
      lastRead = pass.wanted;
      const result = await readOnce(
        ctx,
        pass.wanted,
        maxBytes,
        replicaId,
        zstdReadable,
        denied,
        incremental,
        readCommitted,
      );
      passDone(ctx, incremental, pass.keys, pass.startedMs);
      return result;
    };
    let connection: PollingConnection | undefined;
    try {
      let result = await read();
      // each pass waits for an append or the deadline, so the loop ends by maxWaitMs at the latest; a
      // follower behind its leader's new log start is answered at once (a DeleteRecords waits for it)
      connection = replicaId >= 0 && armed ? pollingConnection(ctx, client) : undefined;
      while (
        armed &&
        connection?.closed !== true &&
        connection?.cutPending !== true &&
        result.bytes < minBytes &&
        !ctx.stopping() &&
        !followerBehindLogStart(ctx, lastRead, replicaId) &&
        !(replicaId >= 0 && hasPartitionError(result.response))
      ) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const release =
          replicaId < 0 ? undefined : incremental ? holdSessionPoll(incremental) : holdAtLogEnd(ctx, wanted, replicaId);
        const wake = armed.wakeNow;
        connection?.wakers.add(wake);
        try {
          await armed.woken(left);
        } finally {
          connection?.wakers.delete(wake);
          release?.();
        }
        if (connection?.closed) break;
        armed.cancel();
        armed = arm();
        result = await read();
      }
      if (request.sessionId !== undefined && replicaId >= 0) {
        // what the session's follower has not been told yet (everything, for the full fetch that made it)
        const response = session ? answerInSession(session, result.response, named) : result.response;
        if (session) answered(ctx, session);
        return { ...response, sessionId: session?.id ?? 0 };
      }
      // consumers only: replication is not a client quota (Kafka throttles it with its own replication quotas)
      const throttleTimeMs =
        replicaId < 0 ? (ctx.quotas?.throttle('consumer_byte_rate', client, result.bytes) ?? 0) : 0;
      return throttleTimeMs > 0 ? { ...result.response, throttleTimeMs } : result.response;
    } finally {
      armed?.cancel();
      // an endPolls that came during this poll is spent (the follower's next fetch names what it added)
      if (connection) connection.cutPending = false;
    }
  },
};
