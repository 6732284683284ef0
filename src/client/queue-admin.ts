/**
 * Queue administration (QueueAdmin): stats, browse, purge, redrive of dead
 * letters, and the list of every queue. Requests about one queue go to its
 * leader; the list (and stats without a name) asks every broker — each
 * answers for the queues it leads — and merges the answers, as listGroups does.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { QueueAdminRequest, QueueAdminResponse, QueueStats } from '../protocol/native/queue-messages.js';
import { deadLetterQueueOf } from '../protocol/native/queue-messages.js';
import { queueBrowseDefault, queueBrowseMax } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, invalidArgument } from './errors.js';
import { boundedInt } from './options.js';
import { browsedOf, checkQueueName, queueRequest } from './queue-wire.js';
import type { DeadLetterQueueInfo, QueueBrowsedMessage, QueueStatistics } from './types.js';

const byName = (a: { queue: string }, b: { queue: string }): number =>
  a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0;

function statsOf(s: QueueStats): QueueStatistics {
  return {
    queue: s.queue,
    depth: s.depth,
    inFlight: s.inFlight,
    consumers: s.consumers,
    enqueued: s.enqueued,
    dequeued: s.dequeued,
    deadLettered: s.deadLettered,
  };
}

function atLeader(
  cluster: Cluster,
  req: QueueAdminRequest & { queue: string },
  what: string,
): Promise<QueueAdminResponse> {
  return queueRequest(cluster, req.queue, ApiKey.QueueAdmin, req, what);
}

/** Every queue of every broker with its stats, sorted by name (a queue is listed once, by its leader). */
export async function listQueues(cluster: Cluster): Promise<QueueStatistics[]> {
  const metadata = await cluster.retry(() => cluster.refreshMetadata([]));
  const nodeIds = (metadata.brokers ?? []).map((b) => b.nodeId);
  const answers = await Promise.all(
    nodeIds.map((nodeId) =>
      cluster.retry(async () => {
        const conn = await cluster.brokerConnection(nodeId);
        const res = await conn.request(ApiKey.QueueAdmin, { op: 'list' });
        checkTopLevel(res, `list queues at broker ${nodeId}`);
        return res.stats ?? [];
      }),
    ),
  );
  const merged = new Map<string, QueueStatistics>();
  for (const s of answers.flat()) if (!merged.has(s.queue)) merged.set(s.queue, statsOf(s));
  return [...merged.values()].sort(byName);
}

/** One queue's stats (the CONTRACT's shape); the queue is created when it does not exist. */
export async function queueStats(cluster: Cluster, name: string): Promise<QueueStatistics> {
  const queue = checkQueueName(name);
  const res = await atLeader(cluster, { op: 'stats', queue }, `stats of queue '${queue}'`);
  const s = res.stats?.find((x) => x.queue === queue) ?? res.stats?.[0];
  if (!s) throw invalidArgument(`the broker sent no stats for queue '${queue}'`);
  return statsOf(s);
}

/** The messages waiting in the queue, oldest first, without consuming them. */
export async function browseQueue(
  cluster: Cluster,
  name: string,
  options: number | { maxMessages?: number } = {},
): Promise<QueueBrowsedMessage[]> {
  const queue = checkQueueName(name);
  // null, like undefined, asks for the default
  const wanted = (typeof options === 'number' ? options : options?.maxMessages) ?? undefined;
  const max = boundedInt('max', wanted, 1, queueBrowseMax, queueBrowseDefault);
  const res = await atLeader(cluster, { op: 'browse', queue, maxMessages: max }, `browse queue '${queue}'`);
  return (res.messages ?? []).map(browsedOf);
}

/** Removes every message no consumer holds; resolves to how many went. */
export async function purgeQueue(cluster: Cluster, name: string): Promise<number> {
  const queue = checkQueueName(name);
  const res = await atLeader(cluster, { op: 'purge', queue }, `purge queue '${queue}'`);
  return res.count ?? 0;
}

/** Moves the queue's dead letters (from DLQ.<queue> or the shared DLQ) back to it; resolves to how many moved. */
export async function redriveQueue(cluster: Cluster, name: string): Promise<number> {
  const queue = checkQueueName(name);
  const res = await atLeader(cluster, { op: 'redrive', queue }, `redrive the dead letters of queue '${queue}'`);
  return res.count ?? 0;
}

/**
 * The dead-letter queues with the queue each serves and its stats: every
 * DLQ.<queue>, plus the shared one when its name (the brokers'
 * queue.dead.letter.queue) is given (it serves every queue: `queue` null).
 */
export async function listDeadLetterQueues(cluster: Cluster, sharedName?: string): Promise<DeadLetterQueueInfo[]> {
  const prefix = deadLetterQueueOf('');
  const out: DeadLetterQueueInfo[] = [];
  for (const s of await listQueues(cluster)) {
    const { queue: dlq, ...stats } = s;
    if (dlq.startsWith(prefix)) out.push({ dlq, queue: dlq.slice(prefix.length), ...stats });
    else if (sharedName !== undefined && dlq === sharedName) out.push({ dlq, queue: null, ...stats });
  }
  return out;
}
