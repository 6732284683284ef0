/**
 * For every native API: a well-formed request body (as Sluice's own clients
 * write it) and malformed variants of it, each a change at one path that no
 * broker may take: a null in a list, a wrong type, a missing field, a number
 * out of range, text or a list over its bound. Written from the protocol's
 * documented shapes, not from the code that checks them, so the unit tests of
 * the shapes and the broker test of the listener share one independent table.
 */
import { ApiKey } from '../../src/protocol/native/api-keys.js';

/** A change to a body: set the value at `path` (dot-separated, numbers index lists); `remove` deletes it. */
export interface Mutation {
  path: string;
  value?: unknown;
  remove?: true;
}

export interface NativeRequestExample {
  apiKey: number;
  name: string;
  valid: Record<string, unknown>;
  malformed: Mutation[];
}

const records = Buffer.from('not checked by the shape, only by the log');
const set = (path: string, value: unknown): Mutation => ({ path, value });
const remove = (path: string): Mutation => ({ path, remove: true });
/** A Date decodes from msgpack's timestamp extension: an object that is not a map. */
const date = new Date(0);

export const nativeRequestExamples: NativeRequestExample[] = [
  {
    apiKey: ApiKey.Produce,
    name: 'Produce',
    valid: { acks: 1, timeoutMs: 1000, topics: [{ name: 'shapes', partitions: [{ partition: 0, records }] }] },
    malformed: [
      set('topics.0', null),
      set('topics', null),
      remove('topics'),
      set('topics.0.partitions.0', null),
      set('topics.0.partitions.0.records', 'text'),
      set('topics.0.partitions.0.records', null),
      set('topics.0.partitions.0.partition', '0'),
      set('topics.0.partitions.0.partition', 2 ** 40),
      set('topics.0.name', 7),
      set('topics.0.partitions', {}),
      set('acks', 2),
      set('timeoutMs', 1.5),
      set('topics', date),
      set(
        'topics.0.partitions',
        Array.from({ length: 10_001 }, (_, partition) => ({ partition, records })),
      ),
    ],
  },
  {
    apiKey: ApiKey.Fetch,
    name: 'Fetch',
    valid: {
      maxWaitMs: 10,
      minBytes: 1,
      maxBytes: 1024,
      topics: [{ name: 'shapes', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
    },
    malformed: [
      set('topics.0', null),
      set('topics.0.partitions.0', null),
      set('topics.0.partitions.0.fetchOffset', null),
      set('topics.0.partitions.0.fetchOffset', 2 ** 60),
      set('topics.0.partitions.0.partition', 2 ** 40),
      set('maxWaitMs', 'x'),
      set('replicaId', -(2 ** 40)),
      set('groupId', 5),
    ],
  },
  {
    apiKey: ApiKey.ListOffsets,
    name: 'ListOffsets',
    valid: { topics: [{ name: 'shapes', partitions: [{ partition: 0, timestamp: -1 }] }] },
    malformed: [
      set('topics', 'x'),
      set('topics.0.partitions.0', null),
      set('topics.0.partitions.0.timestamp', 'latest'),
      remove('topics.0.partitions.0.partition'),
    ],
  },
  {
    apiKey: ApiKey.Metadata,
    name: 'Metadata',
    valid: { topics: ['shapes'], allowAutoTopicCreation: false },
    malformed: [set('topics.0', null), set('topics', 'x'), set('allowAutoTopicCreation', 'yes')],
  },
  {
    apiKey: ApiKey.OffsetCommit,
    name: 'OffsetCommit',
    valid: {
      groupId: 'shapes-group',
      generationId: -1,
      memberId: '',
      topics: [{ name: 'shapes', partitions: [{ partition: 0, offset: 1, metadata: '' }] }],
    },
    malformed: [
      set('topics.0', null),
      set('topics.0.partitions.0.offset', null),
      set('topics.0.partitions.0.offset', '1'),
      set('topics.0.partitions.0.metadata', 5),
      set('groupId', null),
      set('generationId', '1'),
    ],
  },
  {
    apiKey: ApiKey.OffsetFetch,
    name: 'OffsetFetch',
    valid: { groupId: 'shapes-group', topics: [{ name: 'shapes', partitions: [0, 1] }] },
    malformed: [set('topics.0.partitions.0', null), set('topics.0.partitions', null), set('groupId', 1)],
  },
  {
    apiKey: ApiKey.FindCoordinator,
    name: 'FindCoordinator',
    valid: { key: 'shapes-group' },
    malformed: [set('key', null), set('key', {}), remove('key'), set('key', 'x'.repeat(40_000))],
  },
  {
    apiKey: ApiKey.JoinGroup,
    name: 'JoinGroup',
    valid: {
      groupId: 'shapes-join',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(6) }],
    },
    malformed: [
      set('protocols.0', null),
      set('protocols.0.metadata', 'x'),
      set('sessionTimeoutMs', null),
      remove('memberId'),
      set('protocols', [null]),
    ],
  },
  {
    apiKey: ApiKey.Heartbeat,
    name: 'Heartbeat',
    valid: { groupId: 'shapes-join', generationId: 1, memberId: 'm' },
    malformed: [set('generationId', 1.5), remove('groupId'), set('memberId', null)],
  },
  {
    apiKey: ApiKey.LeaveGroup,
    name: 'LeaveGroup',
    valid: { groupId: 'shapes-join', memberId: 'm' },
    malformed: [set('groupId', null), set('memberId', 3)],
  },
  {
    apiKey: ApiKey.SyncGroup,
    name: 'SyncGroup',
    valid: {
      groupId: 'shapes-join',
      generationId: 1,
      memberId: 'm',
      assignments: [{ memberId: 'm', assignment: Buffer.alloc(4) }],
    },
    malformed: [set('assignments.0', null), set('assignments.0.assignment', null), set('generationId', 'x')],
  },
  {
    apiKey: ApiKey.DescribeGroups,
    name: 'DescribeGroups',
    valid: { groups: ['shapes-group'] },
    malformed: [set('groups.0', null), set('groups', null)],
  },
  {
    apiKey: ApiKey.ListGroups,
    name: 'ListGroups',
    valid: {},
    // a body that decodes to an object but is no map
    malformed: [set('', date), set('', Buffer.from('map?'))],
  },
  {
    apiKey: ApiKey.ApiVersions,
    name: 'ApiVersions',
    valid: {},
    malformed: [set('', date), set('', Buffer.from('map?'))],
  },
  {
    apiKey: ApiKey.CreateTopics,
    name: 'CreateTopics',
    valid: {
      topics: [{ name: 'shapes-new', numPartitions: 1, replicationFactor: 1, configs: { 'retention.ms': '1000' } }],
    },
    malformed: [
      set('topics.0', null),
      set('topics.0.name', null),
      set('topics.0.numPartitions', 1.5),
      set('topics.0.replicationFactor', 2 ** 40),
      set('topics.0.configs', 'x'),
      set('topics.0.configs', { 'retention.ms': 5 }),
      set('validateOnly', 'no'),
    ],
  },
  {
    apiKey: ApiKey.DeleteTopics,
    name: 'DeleteTopics',
    valid: { topics: ['shapes-new'] },
    malformed: [set('topics.0', null), set('topics.0', 5), set('topics', 'shapes')],
  },
  {
    apiKey: ApiKey.InitProducerId,
    name: 'InitProducerId',
    valid: { transactionalId: null, transactionTimeoutMs: 30_000 },
    malformed: [set('transactionalId', 5), set('transactionTimeoutMs', 'x'), set('', date)],
  },
  {
    apiKey: ApiKey.OffsetForLeaderEpoch,
    name: 'OffsetForLeaderEpoch',
    valid: {
      replicaId: 1,
      topics: [{ name: 'shapes', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }],
    },
    malformed: [
      set('topics.0', null),
      set('topics.0.partitions.0', null),
      set('topics.0.partitions.0.leaderEpoch', null),
    ],
  },
  {
    apiKey: ApiKey.DescribeConfigs,
    name: 'DescribeConfigs',
    valid: { resources: [{ resourceType: 2, resourceName: 'shapes', configurationKeys: ['retention.ms'] }] },
    malformed: [
      set('resources.0', null),
      set('resources.0.configurationKeys.0', null),
      set('resources.0.resourceType', '2'),
    ],
  },
  {
    apiKey: ApiKey.AlterConfigs,
    name: 'AlterConfigs',
    valid: {
      resources: [{ resourceType: 2, resourceName: 'shapes', configs: [{ name: 'retention.ms', value: '60000' }] }],
      validateOnly: true,
    },
    malformed: [
      set('resources.0.configs.0.value', 5),
      set('resources.0.configs', null),
      set('resources.0.resourceName', 7),
      set('validateOnly', 'yes'),
    ],
  },
  {
    apiKey: ApiKey.IncrementalAlterConfigs,
    name: 'IncrementalAlterConfigs',
    valid: {
      resources: [
        {
          resourceType: 2,
          resourceName: 'shapes',
          configs: [{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }],
        },
      ],
      validateOnly: true,
    },
    malformed: [
      set('resources.0.configs.0.configOperation', '2'),
      set('resources.0.configs.0.name', null),
      set('resources.0.resourceType', 2.5),
    ],
  },
  {
    apiKey: ApiKey.SaslHandshake,
    name: 'SaslHandshake',
    valid: { mechanism: 'SCRAM-SHA-256' },
    malformed: [set('mechanism', null), set('mechanism', 'x'.repeat(65)), set('rawTokens', 1)],
  },
  {
    apiKey: ApiKey.SaslAuthenticate,
    name: 'SaslAuthenticate',
    valid: { authBytes: Buffer.from('n,,n=u,r=x') },
    malformed: [set('authBytes', null), set('authBytes', 'text')],
  },
  {
    apiKey: ApiKey.DescribeUserScramCredentials,
    name: 'DescribeUserScramCredentials',
    valid: { users: ['alice'] },
    malformed: [set('users.0', null), set('users', 'alice')],
  },
  {
    apiKey: ApiKey.AlterUserScramCredentials,
    name: 'AlterUserScramCredentials',
    valid: {
      deletions: [{ name: 'bob', mechanism: 1 }],
      upsertions: [
        { name: 'alice', mechanism: 2, iterations: 4096, salt: Buffer.alloc(8), saltedPassword: Buffer.alloc(64) },
      ],
    },
    malformed: [
      set('deletions.0.mechanism', 128),
      set('upsertions.0.salt', 'salt'),
      set('upsertions.0.iterations', 2 ** 31),
    ],
  },
  {
    apiKey: ApiKey.DescribeClientQuotas,
    name: 'DescribeClientQuotas',
    valid: { components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: false },
    malformed: [set('components.0.matchType', 3), set('strict', 'yes')],
  },
  {
    apiKey: ApiKey.AlterClientQuotas,
    name: 'AlterClientQuotas',
    valid: {
      entries: [
        {
          entity: [{ entityType: 'client-id', entityName: null }],
          ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }],
        },
      ],
      validateOnly: true,
    },
    malformed: [set('entries.0.ops.0.value', '1024'), set('entries.0.entity.0.entityName', 7)],
  },
  {
    apiKey: ApiKey.DeleteGroups,
    name: 'DeleteGroups',
    valid: { groups: ['shapes-group'] },
    malformed: [set('groups.0', null), set('groups.0', 5)],
  },
  {
    apiKey: ApiKey.AlterPartitionReassignments,
    name: 'AlterPartitionReassignments',
    valid: {
      topics: [
        {
          name: 'shapes',
          partitions: [
            { partition: 0, replicas: [1] },
            { partition: 1, replicas: null },
          ],
        },
      ],
    },
    malformed: [
      set('topics.0.partitions.0.replicas.0', '1'),
      set('topics.0.partitions.0.partition', null),
      set('throttleBytesPerSec', 'fast'),
    ],
  },
  {
    apiKey: ApiKey.ListPartitionReassignments,
    name: 'ListPartitionReassignments',
    valid: { topics: [{ name: 'shapes', partitions: [0] }] },
    malformed: [set('topics.0.partitions.0', 'zero'), set('topics.0.name', 5)],
  },
  {
    apiKey: ApiKey.DescribeLogDirs,
    name: 'DescribeLogDirs',
    valid: { topics: [{ name: 'shapes', partitions: [0] }] },
    malformed: [set('topics.0.partitions.0', 'zero'), set('topics.0.name', 5), set('topics', 'all')],
  },
  {
    apiKey: ApiKey.BrokerHeartbeat,
    name: 'BrokerHeartbeat',
    valid: { brokerId: 1, registrationZxid: 7 },
    malformed: [set('brokerId', 'one'), set('brokerId', 1.5), set('registrationZxid', null)],
  },
  {
    apiKey: ApiKey.CreatePartitions,
    name: 'CreatePartitions',
    valid: { topics: [{ name: 'shapes', count: 2 }], timeoutMs: 1000, validateOnly: true },
    malformed: [set('topics.0.count', '2'), remove('topics.0.count'), set('topics.0', null), set('validateOnly', 1)],
  },
  {
    apiKey: ApiKey.DeleteRecords,
    name: 'DeleteRecords',
    valid: { topics: [{ name: 'shapes', partitions: [{ partition: 0, offset: 0 }] }], timeoutMs: 1000 },
    malformed: [
      set('topics.0.partitions.0.offset', '0'),
      remove('topics.0.partitions.0.offset'),
      set('topics.0.partitions.0.offset', 2 ** 60),
      set('topics.0.partitions', null),
    ],
  },
  {
    apiKey: ApiKey.DescribeAcls,
    name: 'DescribeAcls',
    valid: {
      resourceType: 1,
      resourceName: null,
      patternType: 1,
      principal: null,
      host: null,
      operation: 1,
      permission: 1,
    },
    malformed: [set('resourceType', 'Topic'), remove('operation'), set('patternType', 300), set('principal', 5)],
  },
  {
    apiKey: ApiKey.CreateAcls,
    name: 'CreateAcls',
    valid: {
      creations: [
        {
          resourceType: 2,
          resourceName: 'shapes',
          patternType: 3,
          principal: 'User:x',
          host: '*',
          operation: 3,
          permission: 3,
        },
      ],
    },
    malformed: [
      set('creations.0', null),
      set('creations.0.resourceName', null),
      remove('creations.0.principal'),
      set('creations.0.operation', -1),
    ],
  },
  {
    apiKey: ApiKey.DeleteAcls,
    name: 'DeleteAcls',
    valid: {
      filters: [
        {
          resourceType: 1,
          resourceName: null,
          patternType: 1,
          principal: null,
          host: null,
          operation: 1,
          permission: 1,
        },
      ],
    },
    malformed: [set('filters.0', null), set('filters', 'all'), remove('filters.0.permission')],
  },
  {
    apiKey: ApiKey.QueueSend,
    name: 'QueueSend',
    valid: {
      queue: 'shapes',
      messages: [{ key: null, value: Buffer.from('m'), headers: [{ key: 'h', value: Buffer.from('v') }] }],
      acks: { consumerId: 'c', offsets: [0] },
    },
    malformed: [
      set('messages.0', null),
      set('messages.0.value', 'text'),
      set('messages.0.headers.0', null),
      set('messages.0.headers.0.key', null),
      set('acks.offsets.0', null),
      set('queue', null),
      set(
        'messages',
        Array.from({ length: 10_001 }, () => ({ value: null })),
      ),
    ],
  },
  {
    apiKey: ApiKey.QueueFetch,
    name: 'QueueFetch',
    valid: { queue: 'shapes', consumerId: 'c', prefetch: 10, maxMessages: 10, maxWaitMs: 0 },
    malformed: [set('prefetch', null), set('consumerId', 5), set('maxMessages', '10')],
  },
  {
    apiKey: ApiKey.QueueAck,
    name: 'QueueAck',
    valid: { queue: 'shapes', consumerId: 'c', acks: [{ offset: 0, type: 'accept' }] },
    malformed: [set('acks.0', null), set('acks.0.type', 'accepted'), set('acks.0.offset', -1.5)],
  },
  {
    apiKey: ApiKey.QueueLeave,
    name: 'QueueLeave',
    valid: { queue: 'shapes', consumerId: 'c' },
    malformed: [set('consumerId', null), remove('queue')],
  },
  {
    apiKey: ApiKey.QueueAdmin,
    name: 'QueueAdmin',
    valid: { op: 'stats', queue: 'shapes' },
    malformed: [set('op', 'drop'), set('op', null), set('maxMessages', 'x')],
  },
  // transactions (issue 21): a producer id no coordinator gave out, so a broker answers each with an error
  {
    apiKey: ApiKey.AddPartitionsToTxn,
    name: 'AddPartitionsToTxn',
    valid: {
      transactionalId: 'shapes-txn',
      producerId: 424242,
      producerEpoch: 0,
      topics: [{ name: 'shapes', partitions: [0] }],
    },
    malformed: [set('producerEpoch', 40_000), set('topics.0.partitions.0', 'x'), remove('transactionalId')],
  },
  {
    apiKey: ApiKey.AddOffsetsToTxn,
    name: 'AddOffsetsToTxn',
    valid: { transactionalId: 'shapes-txn', producerId: 424242, producerEpoch: 0, groupId: 'shapes-group' },
    malformed: [set('groupId', null), set('producerId', 'x'), remove('producerEpoch')],
  },
  {
    apiKey: ApiKey.EndTxn,
    name: 'EndTxn',
    valid: { transactionalId: 'shapes-txn', producerId: 424242, producerEpoch: 0, committed: false },
    malformed: [set('committed', 1), set('transactionalId', 5), remove('committed')],
  },
  {
    apiKey: ApiKey.WriteTxnMarkers,
    name: 'WriteTxnMarkers',
    valid: {
      markers: [
        {
          producerId: 424242,
          producerEpoch: 0,
          committed: false,
          topics: [{ name: 'shapes-no-such-topic', partitions: [0] }],
          coordinatorEpoch: 0,
        },
      ],
    },
    malformed: [set('markers.0.committed', 'no'), set('markers.0.coordinatorEpoch', 2 ** 31), set('markers.0', null)],
  },
  {
    apiKey: ApiKey.TxnOffsetCommit,
    name: 'TxnOffsetCommit',
    valid: {
      transactionalId: 'shapes-txn',
      groupId: 'shapes-group',
      producerId: 424242,
      producerEpoch: 0,
      topics: [{ name: 'shapes', partitions: [{ partition: 0, offset: 1 }] }],
    },
    malformed: [set('topics.0.partitions.0.offset', '1'), set('generationId', 'x'), remove('groupId')],
  },
  {
    apiKey: ApiKey.DescribeTransactions,
    name: 'DescribeTransactions',
    valid: { transactionalIds: ['shapes-txn'] },
    malformed: [set('transactionalIds.0', null), set('transactionalIds', 'shapes-txn')],
  },
  {
    apiKey: ApiKey.ListTransactions,
    name: 'ListTransactions',
    valid: { stateFilters: ['Ongoing'], producerIdFilters: [] },
    malformed: [set('stateFilters.0', 3), set('producerIdFilters.0', 'x')],
  },
];

function copy(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Date || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copy);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
}

/** The path as a list of steps: list indexes as numbers. */
export function pathSteps(path: string): (string | number)[] {
  return path === '' ? [] : path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** A copy of `body` with `mutation` applied (Buffers shared, not copied). */
export function mutated(body: Record<string, unknown>, mutation: Mutation): unknown {
  const steps = pathSteps(mutation.path);
  if (steps.length === 0) return mutation.value;
  const root = copy(body) as Record<string | number, unknown>;
  let at = root;
  for (const step of steps.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  const last = steps[steps.length - 1] as string | number;
  if (mutation.remove) delete at[last];
  else at[last] = mutation.value;
  return root;
}

/** How an error message names a path: "topics[0].partitions[0].records". */
export function formattedPath(path: string): string {
  const steps = pathSteps(path);
  if (steps.length === 0) return 'the body';
  return steps.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
