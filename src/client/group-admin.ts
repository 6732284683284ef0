/**
 * Consumer-group administration (Kafka's kafka-consumer-groups): list the
 * groups, describe one (members with their decoded assignments, and per
 * partition the committed offset, the log end and the lag), and reset a
 * group's committed offsets.
 *
 * describeGroup's offsets cover every partition of every topic the group has
 * a committed offset in or a member is assigned, sorted by topic and
 * partition. `committed` is null where the group has committed nothing;
 * `logEnd` is the partition's latest offset (ListOffsets latest), null when
 * it cannot be known (the topic is gone, or the partition has no leader);
 * `lag` is logEnd - committed, null when either is null (Kafka prints '-').
 *
 * resetOffsets commits with generation -1 and no member id, the coordinator's
 * admin path: only a group without active members can be reset (Kafka's rule,
 * checked before anything is computed, so a dry run says so too; the
 * coordinator refuses with NON_EMPTY_GROUP if a member joins in between). A
 * group that does not exist yet can be reset: that creates its offsets.
 */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import { consumerProtocolType, decodeAssignment } from '../protocol/native/consumer-protocol.js';
import type { GroupState, OffsetCommitRequest } from '../protocol/native/group-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { splitTopicPartitionKey, topicPartitionKey } from '../shared/topic-partition.js';
import type { Cluster, TopicInfo } from './cluster.js';
import type { Connection } from './connection.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';
import { earliestTimestamp, latestTimestamp, listOffsets, type OffsetQuery } from './offsets.js';

export type { GroupState };

/** Longest group id the admin accepts (Kafka has no limit; the coordinator keys offsets by it). */
const groupIdLengthMax = 255;

export interface GroupListing {
  group: string;
  state: GroupState;
  protocolType: string;
}

export interface GroupMemberAssignment {
  topic: string;
  /** Sorted ascending. */
  partitions: number[];
}

export interface GroupMemberDescription {
  memberId: string;
  clientId: string;
  host: string;
  /** The member's partitions from its last SyncGroup, by topic; empty when unknown or not a consumer group. */
  assignment: GroupMemberAssignment[];
}

export interface GroupPartitionOffset {
  topic: string;
  partition: number;
  /** The group's committed offset (the next record it will read); null when nothing is committed. */
  committed: number | null;
  /** The partition's log end offset; null when unknown (topic deleted, no leader). */
  logEnd: number | null;
  /** logEnd - committed; null when either is unknown. */
  lag: number | null;
}

/** The CONTRACT's group describe shape. */
export interface GroupDescription {
  group: string;
  state: GroupState;
  members: GroupMemberDescription[];
  offsets: GroupPartitionOffset[];
}

/** Where resetOffsets moves the group: earliest / latest, an offset (clamped to the log), or the first record at or after a time. */
export type ResetOffsetsTarget = 'earliest' | 'latest' | { offset: number } | { datetime: string | number | Date };

export interface ResetOffsetsOptions {
  group: string;
  topic: string;
  /** Only these partitions (default: every partition of the topic). */
  partitions?: number[];
  to: ResetOffsetsTarget;
  /** Compute and return the new offsets without committing them (Kafka's default without --execute). */
  dryRun?: boolean;
  /**
   * Offsets as a read_committed consumer sees them: 'latest' is the last stable offset (records of a
   * transaction still open stay ahead, so they are read once it commits). Durable topic subscriptions use it.
   */
  readCommitted?: boolean;
}

export interface ResetOffsetsResult {
  topic: string;
  partition: number;
  /** The committed offset before the reset; null when there was none. */
  previous: number | null;
  /** The offset committed (or, in a dry run, the one that would be). */
  offset: number;
}

function checkGroupId(group: unknown): string {
  if (typeof group !== 'string' || group.length === 0 || group.length > groupIdLengthMax) {
    throw invalidArgument(`a group id must be a string of 1..${groupIdLengthMax} characters`);
  }
  return group;
}

/** A group that does not exist (DescribeGroups answered GROUP_ID_NOT_FOUND). */
export function groupNotFound(group: string): SluiceError {
  // InvalidArgument as it always was (callers match it); the broker's answer makes the HTTP API say 404
  return new SluiceError(ErrorCode.InvalidArgument, `consumer group '${group}' does not exist`, {
    wireName: 'GROUP_ID_NOT_FOUND',
  });
}

/** The connection to `group`'s coordinator (FindCoordinator at any broker). */
async function coordinatorConnection(cluster: Cluster, group: string): Promise<Connection> {
  const any = await cluster.anyConnection();
  const res = await any.request(ApiKey.FindCoordinator, { key: group });
  checkTopLevel(res, `find the coordinator of group '${group}'`);
  return cluster.connectionTo({ host: res.host, port: res.port });
}

/** Sends one request to `group`'s coordinator, retrying coordinator moves and retriable errors. */
function atCoordinator<K extends ApiKey>(
  cluster: Cluster,
  group: string,
  apiKey: K,
  body: RequestOf<K>,
  what: string,
): Promise<ResponseOf<K>> {
  return cluster.retry(async () => {
    const conn = await coordinatorConnection(cluster, group);
    const res: ResponseOf<K> = await conn.request(apiKey, body);
    checkTopLevel(res, what);
    return res;
  });
}

/** Every group of every broker, sorted by name. */
export async function listGroups(cluster: Cluster): Promise<GroupListing[]> {
  const metadata = await cluster.retry(() => cluster.refreshMetadata([]));
  const nodeIds = (metadata.brokers ?? []).map((b) => b.nodeId);
  const answers = await Promise.all(
    nodeIds.map((nodeId) =>
      cluster.retry(async () => {
        const conn = await cluster.brokerConnection(nodeId);
        const res = await conn.request(ApiKey.ListGroups, {});
        checkTopLevel(res, `list groups at broker ${nodeId}`);
        return res.groups ?? [];
      }),
    ),
  );
  const byName = new Map<string, GroupListing>();
  for (const g of answers.flat()) {
    if (!byName.has(g.groupId))
      byName.set(g.groupId, { group: g.groupId, state: g.state, protocolType: g.protocolType });
  }
  return [...byName.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}

interface RawGroup {
  state: GroupState;
  protocolType: string;
  members: GroupMemberDescription[];
}

/** DescribeGroups for one group; null when the coordinator does not know it. */
async function describeRaw(cluster: Cluster, group: string): Promise<RawGroup | null> {
  const res = await atCoordinator(
    cluster,
    group,
    ApiKey.DescribeGroups,
    { groups: [group] },
    `describe group '${group}'`,
  );
  const g = res.groups?.find((x) => x.groupId === group);
  if (!g) throw wireError(WireError.UNKNOWN_SERVER_ERROR, `describe group '${group}'`, 'no answer for the group');
  if (g.errorCode === WireError.GROUP_ID_NOT_FOUND) return null;
  if (g.errorCode !== 0) throw wireError(g.errorCode, `describe group '${group}'`, g.errorMessage);
  const members = (g.members ?? []).map((m): GroupMemberDescription => {
    let assignment: GroupMemberAssignment[] = [];
    if ((g.protocolType || consumerProtocolType) === consumerProtocolType && m.assignment) {
      try {
        assignment = decodeAssignment(Buffer.from(m.assignment)).partitions.map((tp) => ({
          topic: tp.topic,
          partitions: [...tp.partitions].sort((a, b) => a - b),
        }));
      } catch {
        // a member that is not one of ours (or has not synced): its assignment is not shown
        assignment = [];
      }
    }
    return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment };
  });
  return { state: g.state, protocolType: g.protocolType, members };
}

/** The group's committed offsets (OffsetFetch with topics null: every partition it has one for). */
async function committedOffsets(cluster: Cluster, group: string): Promise<Map<string, number>> {
  const res = await atCoordinator(
    cluster,
    group,
    ApiKey.OffsetFetch,
    { groupId: group, topics: null },
    `fetch the offsets of group '${group}'`,
  );
  const out = new Map<string, number>();
  for (const t of res.topics ?? []) {
    for (const p of t.partitions ?? []) {
      if (p.errorCode !== 0 && p.errorCode !== undefined) {
        throw wireError(
          p.errorCode,
          `fetch the offset of group '${group}' for ${t.name}-${p.partition}`,
          p.errorMessage,
        );
      }
      if (p.offset >= 0) out.set(topicPartitionKey(t.name, p.partition), p.offset);
    }
  }
  return out;
}

/** A topic's metadata, or null when the topic does not exist (a missing topic is an answer, not retried). */
async function topicOrNull(cluster: Cluster, topic: string): Promise<TopicInfo | null> {
  try {
    return await cluster.retry(() => cluster.topic(topic, { force: true }), {
      retryIf: (err) => !(err instanceof SluiceError && err.code === ErrorCode.UnknownPartition),
    });
  } catch (err) {
    if (err instanceof SluiceError && err.code === ErrorCode.UnknownPartition) return null;
    throw err;
  }
}

/** The CONTRACT's description of `group`; throws (InvalidArgument) when the group does not exist. */
export async function describeGroup(cluster: Cluster, groupId: string): Promise<GroupDescription> {
  const group = checkGroupId(groupId);
  const raw = await describeRaw(cluster, group);
  if (!raw) throw groupNotFound(group);
  const committed = await committedOffsets(cluster, group);

  const topics = new Set<string>();
  for (const key of committed.keys()) topics.add(splitTopicPartitionKey(key).topic);
  for (const m of raw.members) for (const a of m.assignment) topics.add(a.topic);

  const offsets: GroupPartitionOffset[] = [];
  for (const topic of [...topics].sort()) {
    const info = await topicOrNull(cluster, topic);
    const partitions = new Set<number>();
    for (const p of info?.partitions ?? []) partitions.add(p.partition);
    for (const key of committed.keys()) {
      const tp = splitTopicPartitionKey(key);
      if (tp.topic === topic) partitions.add(tp.partition);
    }
    for (const m of raw.members) {
      for (const a of m.assignment) if (a.topic === topic) for (const p of a.partitions) partitions.add(p);
    }
    const led = new Set((info?.partitions ?? []).filter((p) => p.leader >= 0).map((p) => p.partition));
    const queries: OffsetQuery[] = [...partitions]
      .filter((p) => led.has(p))
      .map((partition) => ({ topic, partition, timestamp: latestTimestamp }));
    const ends = new Map<number, number>();
    for (const a of await listOffsets(cluster, queries)) ends.set(a.partition, a.offset);
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const c = committed.get(topicPartitionKey(topic, partition)) ?? null;
      const logEnd = ends.get(partition) ?? null;
      offsets.push({
        topic,
        partition,
        committed: c,
        logEnd,
        lag: c !== null && logEnd !== null ? logEnd - c : null,
      });
    }
  }
  return { group, state: raw.state, members: raw.members, offsets };
}

function datetimeOf(value: string | number | Date): number {
  const ms =
    value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(String(value).trim());
  if (!Number.isFinite(ms) || ms < 0) {
    throw invalidArgument(`datetime must be an ISO-8601 date-time (e.g. 2024-05-01T12:00:00Z), not '${String(value)}'`);
  }
  return Math.floor(ms);
}

/** Checks `to`; returns the ListOffsets timestamp it needs (or an explicit offset). */
function targetOf(to: ResetOffsetsTarget): { timestamp: number } | { offset: number } {
  if (to === 'earliest') return { timestamp: earliestTimestamp };
  if (to === 'latest') return { timestamp: latestTimestamp };
  if (to && typeof to === 'object' && 'offset' in to) {
    if (!Number.isSafeInteger(to.offset) || to.offset < 0)
      throw invalidArgument(`offset must be a non-negative integer, not ${String(to.offset)}`);
    return { offset: to.offset };
  }
  if (to && typeof to === 'object' && 'datetime' in to) return { timestamp: datetimeOf(to.datetime) };
  throw invalidArgument("reset target must be 'earliest', 'latest', {offset} or {datetime}");
}

/**
 * Moves `group`'s committed offsets on `topic` (every partition, or the ones
 * named) and returns the new offsets per partition. An explicit offset is
 * clamped to [logStart, logEnd] as Kafka does; a datetime past the last
 * record gives the log end.
 */
export async function resetOffsets(cluster: Cluster, options: ResetOffsetsOptions): Promise<ResetOffsetsResult[]> {
  const group = checkGroupId(options?.group);
  const topic = options.topic;
  if (typeof topic !== 'string' || topic.length === 0) throw invalidArgument('a topic name must be a non-empty string');
  const target = targetOf(options.to);

  const raw = await describeRaw(cluster, group);
  if (raw && raw.members.length > 0) throw nonEmpty(group, raw.members.length, raw.state);

  const info = await topicOrNull(cluster, topic);
  if (!info) throw new SluiceError(ErrorCode.UnknownPartition, `topic '${topic}' does not exist`);
  const all = info.partitions.map((p) => p.partition);
  let partitions = all;
  if (options.partitions !== undefined) {
    const have = new Set(all);
    for (const p of options.partitions) {
      if (!have.has(p)) throw invalidArgument(`topic '${topic}' has no partition ${p} (it has ${all.length})`);
    }
    partitions = [...new Set(options.partitions)].sort((a, b) => a - b);
  }

  const queries: OffsetQuery[] =
    'offset' in target
      ? partitions.flatMap((partition) => [
          { topic, partition, timestamp: earliestTimestamp },
          { topic, partition, timestamp: latestTimestamp },
        ])
      : partitions.map((partition) => ({ topic, partition, timestamp: target.timestamp }));
  const answers = await listOffsets(cluster, queries, options.readCommitted ? 1 : 0);
  const found = new Map<string, number>();
  for (const a of answers) found.set(`${a.partition}:${a.timestamp}`, a.offset);
  const committed = await committedOffsets(cluster, group);

  const results: ResetOffsetsResult[] = partitions.map((partition) => {
    let offset: number;
    if ('offset' in target) {
      const start = found.get(`${partition}:${earliestTimestamp}`) ?? 0;
      const end = found.get(`${partition}:${latestTimestamp}`) ?? 0;
      offset = Math.min(Math.max(target.offset, start), end);
    } else {
      offset = found.get(`${partition}:${target.timestamp}`) ?? 0;
    }
    return { topic, partition, previous: committed.get(topicPartitionKey(topic, partition)) ?? null, offset };
  });
  if (options.dryRun || results.length === 0) return results;

  const body: OffsetCommitRequest = {
    groupId: group,
    generationId: -1,
    memberId: '',
    topics: [{ name: topic, partitions: results.map((r) => ({ partition: r.partition, offset: r.offset })) }],
  };
  const res = await atCoordinator(cluster, group, ApiKey.OffsetCommit, body, `reset the offsets of group '${group}'`);
  for (const t of res.topics ?? []) {
    for (const p of t.partitions ?? []) {
      if (p.errorCode === WireError.NON_EMPTY_GROUP) throw nonEmpty(group);
      if (p.errorCode !== 0 && p.errorCode !== undefined) {
        throw wireError(
          p.errorCode,
          `reset the offset of group '${group}' for ${t.name}-${p.partition}`,
          p.errorMessage,
        );
      }
    }
  }
  return results;
}

function nonEmpty(group: string, members?: number, state?: GroupState): SluiceError {
  const who = members === undefined ? 'active members' : `${members} active member${members === 1 ? '' : 's'}`;
  const now = state ? `, state ${state}` : '';
  return new SluiceError(
    ErrorCode.InvalidRequest,
    `cannot reset the offsets of consumer group '${group}': it has ${who}${now} (NON_EMPTY_GROUP); stop its consumers first`,
  );
}
