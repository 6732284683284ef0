/**
 * A well-formed body for every native API key (src/protocol/native/api-keys.ts,
 * shapes from src/protocol/native/*-messages.ts), with small random values:
 * the starting point the native mutator corrupts. Every name it uses is a
 * fuzz topic, group or queue: never the well-behaved client's topic, so no
 * mutation can delete or rewrite the records whose loss the run measures.
 */
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { Compression } from '../../src/wire/record-batch.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import type { MsgValue } from './msgpack-writer.js';
import type { Random } from './random.js';

/** Topics the fuzzer may name; created before the run (fuzz, fuzz-b) or not (the rest). */
export const fuzzTopics = ['fuzz', 'fuzz-b', 'fuzz-missing', '__consumer_offsets', '__queue.fuzz-q'] as const;
/** Topics DeleteTopics may name: never an internal topic (that is issue 14's defect 3, not this run's subject). */
const deletableTopics = ['fuzz-created', 'fuzz-missing', 'fuzz-created-2'] as const;
const groups = ['fuzz-g', 'fuzz-h', ''] as const;
const queues = ['fuzz-q', 'fuzz-r'] as const;

/** The native API keys, every one of them a fuzz target. */
export const nativeApiKeys: readonly number[] = Object.values(ApiKey);

const batchTimestampMs = Date.UTC(2026, 0, 1);

/** A small valid RecordBatch v2 (1-5 records). */
export function smallBatch(random: Random): Buffer {
  const n = random.between(1, 5);
  const records = Array.from({ length: n }, (_, i) => ({
    key: random.chance(0.5) ? Buffer.from(`k${i}`) : null,
    value: random.bytes(random.int(64)),
    headers: random.chance(0.2) ? [{ key: 'h', value: Buffer.from('v') }] : [],
    // a fixed time, not now: a replayed frame is byte for byte the same
    timestamp: batchTimestampMs + i,
  }));
  // mostly uncompressed; else gzip, snappy or lz4 (the codecs Sluice writes)
  return encodeRecordBatch(records, { compression: (random.chance(0.3) ? random.between(1, 3) : 0) as Compression });
}

function topicPartitions<T>(random: Random, partition: (p: number) => T): { name: string; partitions: T[] }[] {
  return [{ name: random.pick(fuzzTopics), partitions: [partition(random.int(3))] }];
}

/** A valid body for `apiKey` (the records of a Produce from `batch`). */
export function nativeBody(apiKey: number, random: Random, batch: (r: Random) => Buffer = smallBatch): MsgValue {
  const group = random.pick(groups);
  const queue = random.pick(queues);
  switch (apiKey) {
    case ApiKey.Produce:
      return {
        acks: random.pick([1, -1, 0]),
        timeoutMs: 1000,
        topics: topicPartitions(random, (partition) => ({ partition, records: batch(random) })),
      };
    case ApiKey.Fetch:
      return {
        maxWaitMs: random.int(20),
        minBytes: 1,
        maxBytes: 65536,
        topics: topicPartitions(random, (partition) => ({
          partition,
          fetchOffset: random.int(5),
          partitionMaxBytes: 65536,
        })),
      };
    case ApiKey.ListOffsets:
      return { topics: topicPartitions(random, (partition) => ({ partition, timestamp: random.pick([-1, -2, 0]) })) };
    case ApiKey.Metadata:
      return { topics: random.chance(0.3) ? null : [random.pick(fuzzTopics)], allowAutoTopicCreation: false };
    case ApiKey.OffsetCommit:
      return {
        groupId: group,
        generationId: -1,
        memberId: '',
        topics: topicPartitions(random, (partition) => ({ partition, offset: random.int(10), metadata: '' })),
      };
    case ApiKey.OffsetFetch:
      return { groupId: group, topics: random.chance(0.3) ? null : [{ name: 'fuzz', partitions: [0, 1] }] };
    case ApiKey.FindCoordinator:
      return { key: group };
    case ApiKey.JoinGroup:
      return {
        groupId: group,
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 1000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      };
    case ApiKey.Heartbeat:
      return { groupId: group, generationId: random.int(3), memberId: 'm' };
    case ApiKey.LeaveGroup:
      return { groupId: group, memberId: 'm' };
    case ApiKey.SyncGroup:
      return {
        groupId: group,
        generationId: 1,
        memberId: 'm',
        assignments: [{ memberId: 'm', assignment: Buffer.from([0, 0]) }],
      };
    case ApiKey.DescribeGroups:
      return { groups: [group] };
    case ApiKey.ListGroups:
    case ApiKey.ApiVersions:
      return {};
    case ApiKey.CreateTopics:
      return {
        topics: [
          {
            name: random.pick(deletableTopics),
            numPartitions: random.between(1, 3),
            replicationFactor: 1,
            configs: {},
          },
        ],
        timeoutMs: 1000,
        validateOnly: random.chance(0.5),
      };
    case ApiKey.DeleteTopics:
      return { topics: [random.pick(deletableTopics)], timeoutMs: 1000 };
    case ApiKey.InitProducerId:
      return { transactionalId: null, transactionTimeoutMs: 60_000 };
    case ApiKey.OffsetForLeaderEpoch:
      return {
        replicaId: -1,
        topics: topicPartitions(random, (partition) => ({ partition, currentLeaderEpoch: 0, leaderEpoch: 0 })),
      };
    case ApiKey.DescribeConfigs:
      return {
        resources: [
          { resourceType: random.pick([2, 4]), resourceName: random.pick(['fuzz', '', '0']), configurationKeys: null },
        ],
      };
    // validate_only: the well-behaved clients' topics keep their configs
    case ApiKey.AlterConfigs:
      return {
        resources: [
          {
            resourceType: random.pick([2, 4]),
            resourceName: random.pick(deletableTopics),
            configs: [{ name: random.pick(['retention.ms', 'no.such.key']), value: String(random.int(100_000)) }],
          },
        ],
        validateOnly: true,
      };
    case ApiKey.IncrementalAlterConfigs:
      return {
        resources: [
          {
            resourceType: 2,
            resourceName: random.pick(deletableTopics),
            configs: [{ name: 'cleanup.policy', configOperation: random.int(5), value: 'compact' }],
          },
        ],
        validateOnly: true,
      };
    case ApiKey.DeleteGroups:
      return { groups: [group] };
    case ApiKey.QueueSend:
      return { queue, messages: [{ key: null, value: random.bytes(random.int(32)), headers: [] }], timeoutMs: 1000 };
    case ApiKey.QueueFetch:
      return { queue, consumerId: `c${random.int(4)}`, prefetch: 10, maxMessages: 5, maxWaitMs: random.int(20) };
    case ApiKey.QueueAck:
      return {
        queue,
        consumerId: `c${random.int(4)}`,
        acks: [{ offset: random.int(10), type: random.pick(['accept', 'release', 'reject', 'return']) }],
      };
    case ApiKey.QueueLeave:
      return { queue, consumerId: `c${random.int(4)}` };
    case ApiKey.QueueAdmin:
      return { op: random.pick(['stats', 'browse', 'list', 'purge']), queue, maxMessages: 10 };
    default:
      return {};
  }
}
