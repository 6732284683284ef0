/**
 * ACLs enforced by a real standalone broker (issue 17), with Kafka's own
 * client (kafkajs 2.2.4), the native client and the CLI. Until SASL lands
 * every connection is User:ANONYMOUS, so the broker starts once with
 * super.users=User:ANONYMOUS to lay down topics and ACLs (the first ACLs of a
 * Kafka cluster come from a super user too), then restarts with
 * super.users=User:admin — a principal these clients cannot be — so from
 * then on User:ANONYMOUS has exactly what its ACLs give it:
 *
 *   Topic orders (literal)          ALLOW Read from 127.0.0.1   (read, not write)
 *   Topic sales. (prefixed)         ALLOW Write                 (prefixed patterns)
 *   Topic sales.secret (literal)    DENY Write                  (deny over allow)
 *   Group readers                   ALLOW Read                  (commit as this group only)
 *   Cluster                         ALLOW Alter, Describe       (manage ACLs; not Create)
 *
 * `principal` is a parameter of the ACLs: once SASL lands, the same file can
 * run as an authenticated user by changing it and the clients' options.
 */
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Admin,
  Kafka,
  logLevel,
  Partitioners,
  ResourcePatternTypes,
} from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { AclOperation } from '../../src/security/acl.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type CliResult, CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { cs, hex } from '../helpers/kafka-api-check.js';
import { KafkaRawClient } from '../helpers/kafka-raw-client.js';
import { kafkajsRequest, kafkajsResponse } from '../helpers/kafkajs-protocol.js';
import { RawClient } from '../helpers/raw-client.js';

const principal = 'User:ANONYMOUS';
const host = '127.0.0.1';
const overrides = [
  'default.replication.factor=1',
  'auto.create.topics.enable=true',
  'authorizer.enabled=true',
  `super.users=${principal}`,
];
let broker: BrokerProcess;
const cli = new CliRunner();
const opened: { disconnect(): Promise<void> }[] = [];
const run = (args: string[], input?: string): Promise<CliResult> =>
  cli.run(args, { brokers: broker.address, ...(input !== undefined ? { input } : {}) });

function kafka(): Kafka {
  return new Kafka({
    clientId: 'sluice-acl-it',
    brokers: [broker.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 300 },
  });
}

async function admin(): Promise<Admin> {
  const a = kafka().admin();
  opened.push(a);
  await a.connect();
  return a;
}

async function send(topic: string, value: string): Promise<void> {
  const p = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
  opened.push(p);
  await p.connect();
  await p.send({ topic, messages: [{ value }] });
}

const allow = AclPermissionTypes.ALLOW;
const deny = AclPermissionTypes.DENY;
const literal = ResourcePatternTypes.LITERAL;

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides });
  // as a super user: the topics, a record to read, and the ACLs
  const a = await admin();
  await a.createTopics({
    topics: ['orders', 'sales.eu', 'sales.secret', 'audit'].map((topic) => ({ topic, numPartitions: 1 })),
  });
  await send('orders', 'first order');
  await a.createAcls({
    acl: [
      [AclResourceTypes.TOPIC, 'orders', literal, AclOperationTypes.READ, allow, host],
      [AclResourceTypes.TOPIC, 'sales.', ResourcePatternTypes.PREFIXED, AclOperationTypes.WRITE, allow, '*'],
      [AclResourceTypes.TOPIC, 'sales.secret', literal, AclOperationTypes.WRITE, deny, '*'],
      [AclResourceTypes.GROUP, 'readers', literal, AclOperationTypes.READ, allow, '*'],
      [AclResourceTypes.CLUSTER, 'kafka-cluster', literal, AclOperationTypes.ALTER, allow, '*'],
      [AclResourceTypes.CLUSTER, 'kafka-cluster', literal, AclOperationTypes.DESCRIBE, allow, '*'],
    ].map(([resourceType, resourceName, resourcePatternType, operation, permissionType, h]) => ({
      resourceType: resourceType as AclResourceTypes,
      resourceName: resourceName as string,
      resourcePatternType: resourcePatternType as ResourcePatternTypes,
      principal,
      host: h as string,
      operation: operation as AclOperationTypes,
      permissionType: permissionType as AclPermissionTypes,
    })),
  });
  await Promise.allSettled(opened.splice(0).map((c) => c.disconnect()));
  // from now on User:ANONYMOUS is an ordinary principal (its ACLs persist in the broker's LevelDB)
  overrides[overrides.length - 1] = 'super.users=User:admin';
  await broker.restart();
}, 90_000);

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((c) => c.disconnect()));
  cli.killAll();
}, 30_000);

afterAll(async () => {
  cli.killAll();
  await broker?.destroy();
}, 30_000);

describe('a principal allowed to read but not write a topic', () => {
  it('kafkajs: produce fails with TOPIC_AUTHORIZATION_FAILED, consume in an allowed group works and commits', async () => {
    await expect(send('orders', 'refused')).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });

    const consumer = kafka().consumer({ groupId: 'readers', retry: { retries: 1 } });
    opened.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const got = await new Promise<string>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message, partition }) => {
          await consumer.commitOffsets([{ topic: 'orders', partition, offset: String(Number(message.offset) + 1) }]);
          resolve(message.value?.toString() ?? '');
        },
      });
    });
    expect(got).toBe('first order');
    await consumer.disconnect();
    const a = await admin();
    const committed = await a.fetchOffsets({ groupId: 'readers', topics: ['orders'] });
    expect(committed[0]?.partitions[0]?.offset).toBe('1');
  });

  it('the native client and the CLI see a clear error', async () => {
    const sluice = new Sluice({ brokers: broker.address, clientId: 'acl-native', retries: 0 });
    try {
      await expect(
        sluice.producer({ acks: -1 }).send({ topic: 'orders', messages: [{ value: 'x' }] }),
      ).rejects.toMatchObject({
        code: 'SLUICE_ERR_TOPIC_AUTHORIZATION_FAILED',
      });
    } finally {
      await sluice.close();
    }
    expectOneLineError(
      await run(['produce', 'orders'], 'x\n'),
      /TOPIC_AUTHORIZATION_FAILED.*not authorized to Write topic orders/,
    );
  });

  it('topics the principal may not Describe are left out of Metadata', async () => {
    const a = await admin();
    const topics = await a.listTopics();
    expect(topics).toContain('orders');
    expect(topics).not.toContain('audit');
  });
});

describe('authorized operations (KIP-430)', () => {
  it('Metadata answers the operations the principal may do on each topic and on the cluster', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      const res = await raw.call<{
        topics: { name: string; authorizedOperations?: number }[];
        clusterAuthorizedOperations?: number;
      }>(ApiKey.Metadata, {
        topics: ['orders', 'sales.eu'],
        includeTopicAuthorizedOperations: true,
        includeClusterAuthorizedOperations: true,
      });
      const bits = (...ops: number[]) => ops.reduce((b, op) => b | (1 << op), 0);
      // orders: Read, and the Describe it implies; sales.eu: Write and Describe
      expect(res.topics.find((t) => t.name === 'orders')?.authorizedOperations).toBe(
        bits(AclOperation.Read, AclOperation.Describe),
      );
      expect(res.topics.find((t) => t.name === 'sales.eu')?.authorizedOperations).toBe(
        bits(AclOperation.Write, AclOperation.Describe),
      );
      const cluster = res.clusterAuthorizedOperations ?? 0;
      expect(cluster & bits(AclOperation.Alter, AclOperation.Describe)).toBe(
        bits(AclOperation.Alter, AclOperation.Describe),
      );
      expect(cluster & bits(AclOperation.ClusterAction, AclOperation.IdempotentWrite)).toBe(0);
    } finally {
      raw.close();
    }
  });
});

describe('patterns and deny', () => {
  it('a PREFIXED allow covers every topic under the prefix, and a DENY wins over it', async () => {
    await send('sales.eu', 'allowed by the prefix');
    await expect(send('sales.secret', 'denied')).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
  });
});

describe('idempotent producers', () => {
  it('InitProducerId is allowed by Write on some topic (Kafka 3.x), without IdempotentWrite on the cluster', async () => {
    const p = kafka().producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
    opened.push(p);
    await p.connect();
    const [sent] = await p.send({ topic: 'sales.eu', acks: -1, messages: [{ value: 'idempotent' }] });
    expect(sent?.errorCode).toBe(0);
  });
});

describe('queues', () => {
  it("map to a Topic resource of the queue's name: Write to send (a prefixed ACL covers sales.*), else refused", async () => {
    const sluice = new Sluice({ brokers: broker.address, clientId: 'acl-queues', retries: 0 });
    try {
      await expect(sluice.queue('sales.jobs').send('allowed')).resolves.toBeDefined();
      await expect(sluice.queue('jobs').send('refused')).rejects.toMatchObject({
        code: 'SLUICE_ERR_TOPIC_AUTHORIZATION_FAILED',
      });
    } finally {
      await sluice.close();
    }
  });
});

describe('group ACLs for committing', () => {
  it('commits as the allowed group; another group is refused with GROUP_AUTHORIZATION_FAILED', async () => {
    const ok = await run(['group', 'reset-offsets', 'readers', '--topic', 'orders', '--to-earliest', '--execute']);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await run(['group', 'reset-offsets', 'others', '--topic', 'orders', '--to-earliest', '--execute']);
    expectOneLineError(refused, /GROUP_AUTHORIZATION_FAILED/);
  });
});

describe("per-entry refusals, in Kafka's shape", () => {
  it('a follower Fetch without ClusterAction: TOPIC_AUTHORIZATION_FAILED on every partition, the request itself answered', async () => {
    // brokers replicate over the native listener: a follower's Fetch names its broker id as replicaId
    const raw = await RawClient.connect(broker.port);
    try {
      type Answer = {
        errorCode: number;
        topics: {
          name: string;
          partitions: { partition: number; errorCode: number; highWatermark: number; records: Uint8Array }[];
        }[];
      };
      const fetch = (replicaId: number, topics: string[]) =>
        raw.call<Answer>(ApiKey.Fetch, {
          replicaId,
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          topics: topics.map((name) => ({
            name,
            partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 16 }],
          })),
        });
      // User:ANONYMOUS may Read orders but has no ClusterAction: as a follower it reads nothing, not even orders
      const follower = await fetch(1, ['orders', 'sales.eu', 'no-such-topic']);
      expect(follower.errorCode).toBe(0);
      expect(
        follower.topics.map((t) => [
          t.name,
          t.partitions.map((p) => [p.partition, p.errorCode, p.highWatermark, p.records.length]),
        ]),
      ).toEqual(
        ['orders', 'sales.eu', 'no-such-topic'].map((topic) => [
          topic,
          [[0, WireError.TOPIC_AUTHORIZATION_FAILED, -1, 0]],
        ]),
      );
      // the same connection as a consumer reads what its ACLs allow
      const consumer = await fetch(-1, ['orders']);
      expect(consumer.topics[0]?.partitions[0]?.errorCode).toBe(0);
      expect(consumer.topics[0]?.partitions[0]?.records.length).toBeGreaterThan(0);
    } finally {
      raw.close();
    }
  });

  it('a Kafka client naming a replica_id is authorized as a follower: without ClusterAction every partition is refused', async () => {
    const raw = await KafkaRawClient.connect(broker.kafkaPort);
    try {
      type Decoded = {
        errorCode: number;
        responses: { topicName: string; partitions: { partition: number; errorCode: number; messages: unknown[] }[] }[];
      };
      // kafkajs 2.2.4's Fetch v7 encoder; User:ANONYMOUS may Read orders but has no ClusterAction
      const fetch = async (replicaId: number) =>
        kafkajsResponse<Decoded>(
          'fetch',
          7,
          await raw.call(
            await kafkajsRequest('fetch', 7, {
              replicaId,
              maxWaitTime: 0,
              minBytes: 1,
              maxBytes: 1 << 20,
              isolationLevel: 0,
              topics: [
                {
                  topic: 'orders',
                  partitions: [{ partition: 0, fetchOffset: '0', logStartOffset: '-1', maxBytes: 1 << 16 }],
                },
              ],
            }),
          ),
        );
      const follower = (await fetch(1)).decoded;
      expect(follower.errorCode).toBe(0);
      expect(
        follower.responses.map((t) => [
          t.topicName,
          t.partitions.map((p) => [p.partition, p.errorCode, p.messages.length]),
        ]),
      ).toEqual([['orders', [[0, WireError.TOPIC_AUTHORIZATION_FAILED, 0]]]]);
      const consumer = (await fetch(-1)).decoded;
      expect(consumer.responses[0]?.partitions[0]?.errorCode).toBe(0);
      expect(consumer.responses[0]?.partitions[0]?.messages.length).toBeGreaterThan(0);
    } finally {
      raw.close();
    }
  });

  it('FindCoordinator v4 answers each group on its own: the coordinator of one, GROUP_AUTHORIZATION_FAILED for the other', async () => {
    const raw = await KafkaRawClient.connect(broker.kafkaPort);
    try {
      // hand-laid (kafkajs has no v4): request header tags, key type 0, [readers, others], tags
      const found = await raw.call({
        apiKey: 10,
        apiVersion: 4,
        body: hex(`00 00 03 ${cs('readers')} ${cs('others')} 00`),
      });
      const port = broker.kafkaPort.toString(16).padStart(8, '0');
      const refused = 'User:ANONYMOUS is not authorized to Describe group others';
      // response header tags, throttle, [key, node, host, port, error, message, tags] × 2, tags
      expect(found.toString('hex')).toBe(
        hex(
          `00 00000000 03 ${cs('readers')} 00000000 ${cs('127.0.0.1')} ${port} 0000 00 00` +
            ` ${cs('others')} ffffffff ${cs('')} ffffffff 001e ${cs(refused)} 00 00`,
        ).toString('hex'),
      );
    } finally {
      raw.close();
    }
  });
});

describe('cluster ACLs for topic creation', () => {
  it('CreateTopics is refused without Create on the cluster, allowed once an ACL grants it', async () => {
    const a = await admin();
    await expect(
      a.createTopics({ topics: [{ topic: 'fresh', numPartitions: 1 }], waitForLeaders: false }),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })] });
    await a.createAcls({
      acl: [
        {
          resourceType: AclResourceTypes.CLUSTER,
          resourceName: 'kafka-cluster',
          resourcePatternType: literal,
          principal,
          host: '*',
          operation: AclOperationTypes.CREATE,
          permissionType: allow,
        },
      ],
    });
    expect(await a.createTopics({ topics: [{ topic: 'fresh', numPartitions: 1 }], waitForLeaders: false })).toBe(true);
  });
});

describe('sluice acl add / list / remove', () => {
  it('round trip', async () => {
    const flags = [
      '--allow-principal',
      'User:bob',
      '--operation',
      'Read',
      '--operation',
      'Describe',
      '--topic',
      'reports.',
      '--resource-pattern-type',
      'prefixed',
    ];
    const added = await run(['acl', 'add', ...flags]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/ALLOW\s+User:bob\s+\*\s+Read\s+Topic\s+PREFIXED\s+reports\./);

    const listed = await run(['acl', 'list', '--topic', 'reports.', '--resource-pattern-type', 'prefixed', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      ['Read', 'Describe'].map((operation) => ({
        resourceType: 'Topic',
        resourceName: 'reports.',
        patternType: 'PREFIXED',
        principal: 'User:bob',
        host: '*',
        operation,
        permission: 'ALLOW',
      })),
    );
    // MATCH: the patterns that apply to a name (the prefixed one applies to reports.q1)
    const matching = await run(['acl', 'list', '--topic', 'reports.q1', '--resource-pattern-type', 'match', '--json']);
    expect(JSON.parse(matching.stdout)).toHaveLength(2);

    const removed = await run([
      'acl',
      'remove',
      '--allow-principal',
      'User:bob',
      '--operation',
      'Read',
      '--topic',
      'reports.',
      '--resource-pattern-type',
      'prefixed',
    ]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/Removed ACLs/);
    const left = await run(['acl', 'list', '--topic', 'reports.', '--resource-pattern-type', 'prefixed', '--json']);
    expect(JSON.parse(left.stdout).map((a: { operation: string }) => a.operation)).toEqual(['Describe']);
  });

  it('bad input is a usage error, an unknown operation a one-line error; nothing changes', async () => {
    const usage = await run(['acl', 'add', '--operation', 'Read', '--topic', 't']);
    expect(usage.code).toBe(2);
    expectOneLineError(
      await run(['acl', 'add', '--allow-principal', 'User:x', '--operation', 'Fly', '--topic', 't']),
      /unknown operation 'Fly'/,
    );
    const invalid = await run(['acl', 'add', '--allow-principal', 'User:x', '--operation', 'Write', '--group', 'g']);
    expectOneLineError(invalid, /INVALID_REQUEST.*Write is not valid on a Group/);
    const listed = await run(['acl', 'list', '--principal', 'User:x', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});
