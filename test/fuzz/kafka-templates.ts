/**
 * Valid Kafka requests for every API the Kafka listener advertises
 * (src/protocol/kafka/registry.ts), several versions each, written by
 * kafkajs's encoders (test/helpers/kafkajs-protocol.ts): an independent
 * client's bytes, which the Kafka mutator then corrupts. Built once per run.
 */
import { kafkajsRequest } from '../helpers/kafkajs-protocol.js';

export interface KafkaTemplate {
  api: string;
  apiKey: number;
  apiVersion: number;
  /** The request body, without size prefix and header. */
  body: Buffer;
}

const topicData = [
  {
    topic: 'fuzz',
    partitions: [
      { partition: 0, messages: [{ key: 'k', value: 'value-0' }] },
      { partition: 1, messages: [{ key: null, value: 'value-1', headers: { h: 'v' } }] },
    ],
  },
];
const fetchTopics = [{ topic: 'fuzz', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 10_000 }] }];
const groupProtocols = [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0]) }];

/** kafkajs request folder → versions to build (within both kafkajs's and the listener's ranges) and its arguments. */
const specs: [string, number[], object][] = [
  ['produce', [3, 5, 7], { acks: 1, timeout: 1000, topicData }],
  [
    'fetch',
    [4, 7, 11],
    { replicaId: -1, maxWaitTime: 10, minBytes: 1, maxBytes: 10_000, topics: fetchTopics, rackId: '' },
  ],
  [
    'listOffsets',
    [1, 2, 3],
    { replicaId: -1, isolationLevel: 1, topics: [{ topic: 'fuzz', partitions: [{ partition: 0, timestamp: -1 }] }] },
  ],
  ['metadata', [0, 1, 4, 6], { topics: ['fuzz', 'fuzz-b'], allowAutoTopicCreation: false }],
  [
    'offsetCommit',
    [2, 3, 5],
    {
      groupId: 'fuzz-k',
      groupGenerationId: -1,
      memberId: '',
      retentionTime: -1,
      topics: [{ topic: 'fuzz', partitions: [{ partition: 0, offset: '1' }] }],
    },
  ],
  ['offsetFetch', [1, 3, 4], { groupId: 'fuzz-k', topics: [{ topic: 'fuzz', partitions: [{ partition: 0 }] }] }],
  ['findCoordinator', [0, 1, 2], { groupId: 'fuzz-k', coordinatorKey: 'fuzz-k', coordinatorType: 0 }],
  [
    'joinGroup',
    [0, 2, 5],
    {
      groupId: 'fuzz-k',
      sessionTimeout: 6000,
      rebalanceTimeout: 1000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols,
    },
  ],
  ['heartbeat', [0, 3], { groupId: 'fuzz-k', groupGenerationId: 1, memberId: 'm' }],
  ['leaveGroup', [0, 2], { groupId: 'fuzz-k', memberId: 'm' }],
  [
    'syncGroup',
    [0, 3],
    {
      groupId: 'fuzz-k',
      generationId: 1,
      memberId: 'm',
      groupAssignment: [{ memberId: 'm', memberAssignment: Buffer.from([0, 1]) }],
    },
  ],
  ['describeGroups', [0, 2], { groupIds: ['fuzz-k', 'fuzz-g'] }],
  ['listGroups', [0, 2], {}],
  ['apiVersions', [0, 2], {}],
  [
    'createTopics',
    [0, 3],
    { topics: [{ topic: 'fuzz-kafka-created', numPartitions: 1, replicationFactor: 1 }], timeout: 1000 },
  ],
  ['deleteTopics', [0, 1], { topics: ['fuzz-kafka-created', 'fuzz-missing'], timeout: 1000 }],
  ['initProducerId', [0, 1], { transactionalId: null, transactionTimeout: 30_000 }],
  [
    'describeConfigs',
    [0, 2],
    {
      resources: [
        { type: 2, name: 'fuzz', configNames: ['retention.ms'] },
        { type: 4, name: '0' },
      ],
      includeSynonyms: false,
    },
  ],
  // validate_only: checked, never applied (the well-behaved clients' topics keep their configs)
  [
    'alterConfigs',
    [0, 1],
    {
      validateOnly: true,
      resources: [{ type: 2, name: 'fuzz', configEntries: [{ name: 'retention.ms', value: '60000' }] }],
    },
  ],
];

/** Every template, in a fixed order (the mutator picks by index, so a seed replays). */
export async function kafkaTemplates(): Promise<KafkaTemplate[]> {
  const out: KafkaTemplate[] = [];
  for (const [api, versions, args] of specs) {
    for (const version of versions) {
      const { apiKey, apiVersion, body } = await kafkajsRequest(api, version, args);
      out.push({ api, apiKey, apiVersion, body });
    }
  }
  return out;
}
