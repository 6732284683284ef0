/**
 * CreatePartitions on ZooKeeper (Kafka's AdminZkClient.addPartitions): the
 * new partitions are appended to the topic znode's assignment, placed as
 * Kafka places them — its rack-unaware assignment continued from partition
 * `existing` with the start index of the broker that leads partition 0
 * (assignReplicas over all partitions gives exactly those for the new ones).
 * The write is conditional on the znode's version and keeps every other field
 * (the topic id). A topic with a partition under reassignment is refused
 * (REASSIGNMENT_IN_PROGRESS, as Kafka's ZooKeeper-mode createPartitions: its
 * replication factor has no meaning while replica sets are the union of
 * origin and target). The controller's data watch on the
 * topic znode then creates the new partitions' states (leader = first live
 * replica, as at creation).
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import type { TopicSpec } from '../coordinator.js';
import { checkPartitionGrowth } from '../topic-spec.js';
import { assignReplicas } from './controller.js';
import { isReassigning } from './reassignment.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';
import { brokerIdsPath, deleteTopicPath, parseAssignment, type TopicAssignment, topicPath } from './zk-paths.js';

/**
 * The replicas of partitions existing..count-1, continuing `current` (partition
 * → replicas) over the live brokers. Pure, for tests.
 */
export function assignNewPartitions(current: number[][], count: number, live: number[]): number[][] {
  const brokers = [...live].sort((a, b) => a - b);
  const rf = current[0]?.length ?? 1;
  const first = current[0]?.[0];
  const start = first === undefined ? -1 : brokers.indexOf(first);
  const fixed = start >= 0 ? start : Math.floor(Math.random() * brokers.length);
  return assignReplicas(brokers, count, rf, fixed, fixed).slice(current.length);
}

/** Appends partitions up to `count` to the topic znode; returns the new assignment (every partition). */
export async function addPartitions(zk: ZkClient, topic: string, count: number): Promise<number[][]> {
  const path = topicPath(topic);
  for (let attempt = 0; attempt < 5; attempt++) {
    const node = await zk.get(path);
    if (!node) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${topic} does not exist`);
    if (await zk.get(deleteTopicPath(topic))) {
      throw new SluiceError(ErrorCode.InvalidTopic, `topic ${topic} is queued for deletion`);
    }
    const znode = parseAssignment(path, node.data);
    const moving = Object.keys(znode.partitions).filter((p) => isReassigning(znode, Number(p)));
    if (moving.length > 0) {
      throw new SluiceError(
        ErrorCode.ReassignmentInProgress,
        `a partition reassignment is in progress for topic ${topic} (partitions ${moving.join(',')})`,
      );
    }
    const current: number[][] = [];
    for (const [key, replicas] of Object.entries(znode.partitions)) current[Number(key)] = replicas;
    const spec: TopicSpec = { name: topic, partitions: current.length, replicationFactor: 0, configs: {} };
    checkPartitionGrowth(spec, count);
    const live = (await zk.children(brokerIdsPath)).map(Number);
    const added = assignNewPartitions(current, count, live);
    const partitions = { ...znode.partitions };
    added.forEach((replicas, i) => {
      partitions[String(current.length + i)] = replicas;
    });
    const next: TopicAssignment = { ...znode, partitions };
    try {
      await zk.set(path, JSON.stringify(next), node.version);
      return [...current, ...added];
    } catch (err) {
      if (isZkError(err, ZkCode.NoNode))
        throw new SluiceError(ErrorCode.UnknownPartition, `topic ${topic} was deleted`);
      if (!isZkError(err, ZkCode.BadVersion)) throw err;
    }
  }
  throw new SluiceError(ErrorCode.Timeout, `${path} kept changing while partitions were added`);
}
