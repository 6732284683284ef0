/**
 * The topic znode /brokers/topics/<t> as Kafka 2.8+ writes it (TopicZNode,
 * version 3): the replica assignment, the reassignment fields and the topic id.
 *
 *   {"version":3,"partitions":{"0":[1,2]},"adding_replicas":{},"removing_replicas":{},"topic_id":"<22 chars>"}
 *
 * The id is written with the assignment when the topic is created. A topic
 * created before topic ids (version 2, no "topic_id") gets one from the
 * controller (ensureTopicId), as Kafka's controller does on upgrade. Every
 * rewrite of the znode (partitions added) keeps the id and any field it does
 * not know.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { isTopicId, newTopicId } from '../topic-id.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';
import { parseAssignment, type TopicAssignment, topicPath } from './zk-paths.js';

/** The znode of a new topic: partition p is replicated on replicas[p]. */
export function newTopicZnode(replicas: number[][], topicId = newTopicId()): TopicAssignment {
  const partitions: Record<string, number[]> = {};
  replicas.forEach((r, p) => {
    partitions[String(p)] = r;
  });
  return { version: 3, partitions, adding_replicas: {}, removing_replicas: {}, topic_id: topicId };
}

/** The topic id the znode holds, or undefined when it has none (a topic created before topic ids). */
export function topicIdOf(znode: TopicAssignment): string | undefined {
  return isTopicId(znode.topic_id) ? znode.topic_id : undefined;
}

/**
 * Gives the topic an id when its znode has none (conditional on the znode's
 * version: a concurrent rewrite wins and is looked at again). Returns the id,
 * or undefined when the topic is gone.
 */
export async function ensureTopicId(zk: ZkClient, topic: string): Promise<string | undefined> {
  const path = topicPath(topic);
  for (let attempt = 0; attempt < 5; attempt++) {
    const node = await zk.get(path);
    if (!node) return undefined;
    const znode = parseAssignment(path, node.data);
    const existing = topicIdOf(znode);
    if (existing) return existing;
    const next: TopicAssignment = { ...znode, version: 3, topic_id: newTopicId() };
    next.adding_replicas ??= {};
    next.removing_replicas ??= {};
    try {
      await zk.set(path, JSON.stringify(next), node.version);
      return next.topic_id;
    } catch (err) {
      if (!isZkError(err, ZkCode.BadVersion) && !isZkError(err, ZkCode.NoNode)) throw err;
    }
  }
  throw new SluiceError(ErrorCode.BrokerError, `${path} kept changing while a topic id was given to it`);
}
