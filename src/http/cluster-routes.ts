/** The admin API's brokers, topics and message browser (/api/cluster, /api/topics, /api/messages). */
import type { FastifyInstance } from 'fastify';
import type { Admin } from '../client/admin.js';
import type { Consumer } from '../client/consumer.js';
import type { Sluice } from '../client/sluice.js';
import type { Message } from '../client/types.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { HttpServerOptions } from './http-options.js';
import {
  addRoute,
  badRequest,
  errorSchema,
  int,
  ints,
  listOf,
  messageJson,
  messageJsonProperties,
  messagesMax,
  nameParam,
  partitionReadQueryProperties,
  str,
} from './routes.js';

const partitionSchema = {
  type: 'object',
  properties: { partition: int, leader: int, replicas: ints, isr: ints, logStartOffset: int, highWatermark: int },
} as const;
const topicDescribeSchema = {
  type: 'object',
  properties: { name: str, partitions: { type: 'array', items: partitionSchema } },
} as const;

export function registerClusterRoutes(
  app: FastifyInstance,
  admin: Admin,
  options: Pick<HttpServerOptions, 'coordinator' | 'mode' | 'startedAt' | 'logs' | 'metrics'>,
): void {
  addRoute(app, {
    method: 'GET',
    url: '/api/cluster',
    summary: 'Brokers and the controller',
    role: 'viewer',
    response: {
      200: {
        type: 'object',
        properties: {
          mode: str,
          controllerId: int,
          brokers: listOf({
            id: int,
            host: str,
            port: int,
            // the Kafka-protocol listener; null when the broker runs none
            kafkaPort: { type: ['integer', 'null'] },
            controller: { type: 'boolean' },
            // known for the broker answering (this one); null for the others
            upSince: { type: ['string', 'null'] },
          }),
        },
      },
    },
    handler: async () => {
      const controllerId = options.coordinator.controllerId();
      return {
        mode: options.mode,
        controllerId,
        brokers: options.coordinator
          .brokers()
          .map((b) => ({
            id: b.nodeId,
            host: b.host,
            port: b.port,
            kafkaPort: b.kafkaPort ?? null,
            controller: b.nodeId === controllerId,
            upSince:
              b.nodeId === options.coordinator.brokerId && options.startedAt !== undefined
                ? new Date(options.startedAt).toISOString()
                : null,
          }))
          .sort((a, b) => a.id - b.id),
      };
    },
  });

  addRoute(app, {
    method: 'GET',
    url: '/api/log-dirs',
    summary: "Every broker's log directories: free and total bytes, replicas held and their bytes on disk",
    role: 'viewer',
    response: {
      200: {
        type: 'object',
        properties: {
          dirs: listOf({
            broker: int,
            dir: str,
            totalBytes: { type: ['integer', 'null'] },
            usableBytes: { type: ['integer', 'null'] },
            replicas: int,
            sizeBytes: int,
          }),
          // brokers that gave no answer, and why
          unreachable: listOf({ broker: int, error: str }),
        },
      },
    },
    handler: async () => {
      const { dirs, unreachable } = await admin.describeLogDirs();
      return {
        dirs: dirs.map((d) => ({
          broker: d.broker,
          dir: d.dir,
          totalBytes: d.totalBytes,
          usableBytes: d.usableBytes,
          replicas: d.replicas.length,
          sizeBytes: d.replicas.reduce((n, r) => n + r.sizeBytes, 0),
        })),
        unreachable,
      };
    },
  });

  /** Bytes on this broker's disk of the topic's partitions it holds. */
  const localSize = (topic: string, partitions: number): number => {
    let size = 0;
    for (let p = 0; p < partitions; p++) size += options.logs?.get(topic, p)?.sizeBytes ?? 0;
    return size;
  };
  /** Bytes on disk of each topic over every replica of the cluster; undefined when no broker answered. */
  const clusterSizes = async (): Promise<Map<string, number> | undefined> => {
    try {
      const { dirs } = await admin.describeLogDirs();
      if (dirs.length === 0) return undefined;
      const sizes = new Map<string, number>();
      for (const d of dirs) for (const r of d.replicas) sizes.set(r.topic, (sizes.get(r.topic) ?? 0) + r.sizeBytes);
      return sizes;
    } catch {
      return undefined;
    }
  };

  /**
   * Records/s of a topic since the previous call (bounded map): in from its partitions' high
   * watermarks (the cluster's metadata, so every leader's appends count), out through this broker.
   */
  const lastTotals = new Map<string, { at: number; records: number; out: number }>();
  const rates = (
    topic: string,
    appended: number,
    now: number,
  ): { messagesInPerSec: number; messagesOutPerSec: number } => {
    const out = options.metrics?.topicTotals(topic).out ?? 0;
    const last = lastTotals.get(topic);
    if (last || lastTotals.size < 1000) lastTotals.set(topic, { at: now, records: appended, out });
    if (!last || now <= last.at) return { messagesInPerSec: 0, messagesOutPerSec: 0 };
    const seconds = (now - last.at) / 1000;
    const perSec = (n: number): number => Math.max(0, Math.round((n * 10) / seconds) / 10);
    return { messagesInPerSec: perSec(appended - last.records), messagesOutPerSec: perSec(out - last.out) };
  };

  addRoute(app, {
    method: 'GET',
    url: '/api/topics',
    summary: 'Every topic',
    role: 'viewer',
    response: {
      200: listOf({
        name: str,
        partitions: int,
        replicationFactor: int,
        underReplicatedPartitions: int,
        // bytes on disk of every replica in the cluster (DescribeLogDirs of each broker); a broker
        // that does not answer is left out of the sum, and this broker's own logs are used if none answer
        sizeBytes: int,
        // the cluster's: records between log start and high watermark over every partition
        records: int,
        // the cluster's: high watermarks' growth since the previous call of this route
        messagesInPerSec: { type: 'number' },
        // through this broker since the previous call
        messagesOutPerSec: { type: 'number' },
      }),
    },
    handler: async () => {
      const now = Date.now();
      const [topics, sizes] = await Promise.all([admin.describeTopic(), clusterSizes()]);
      return topics.map((t) => {
        let records = 0;
        let appended = 0;
        for (const p of t.partitions) {
          records += Math.max(0, p.highWatermark - p.logStartOffset);
          appended += Math.max(0, p.highWatermark);
        }
        return {
          name: t.name,
          partitions: t.partitions.length,
          replicationFactor: t.partitions[0]?.replicas.length ?? 0,
          underReplicatedPartitions: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
          sizeBytes: sizes?.get(t.name) ?? (sizes ? 0 : localSize(t.name, t.partitions.length)),
          records,
          ...rates(t.name, appended, now),
        };
      });
    },
  });
  addRoute<{ Params: { name: string } }>(app, {
    method: 'GET',
    url: '/api/topics/:name',
    summary: "A topic's partitions",
    role: 'viewer',
    params: nameParam('name'),
    response: { 200: topicDescribeSchema },
    handler: async (req) => admin.describeTopic(req.params.name),
  });
  addRoute<{
    Body: { name: string; partitions?: number; replicationFactor?: number; configs?: Record<string, string> };
  }>(app, {
    method: 'POST',
    url: '/api/topics',
    summary: 'Create a topic',
    role: 'admin',
    body: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' },
        partitions: { type: 'integer', minimum: 1, maximum: 10000 },
        replicationFactor: { type: 'integer', minimum: 1, maximum: 100 },
        configs: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    response: { 201: topicDescribeSchema },
    handler: async (req, reply) => {
      const body = req.body;
      await admin.createTopic({
        topic: body.name,
        ...(body.partitions !== undefined ? { partitions: body.partitions } : {}),
        ...(body.replicationFactor !== undefined ? { replicationFactor: body.replicationFactor } : {}),
        ...(body.configs !== undefined ? { config: body.configs } : {}),
      });
      return reply.code(201).send(await admin.describeTopic(body.name));
    },
  });
  const topicConfigsSchema = {
    type: 'object',
    properties: {
      name: str,
      configs: listOf({
        name: str,
        value: { type: ['string', 'null'] },
        // DYNAMIC_TOPIC_CONFIG (the topic's override), STATIC_BROKER_CONFIG or DEFAULT_CONFIG
        source: str,
        sensitive: { type: 'boolean' },
      }),
    },
  } as const;
  addRoute<{ Params: { name: string } }>(app, {
    method: 'GET',
    url: '/api/topics/:name/configs',
    summary: "A topic's configs: every key with its value and source",
    role: 'viewer',
    params: nameParam('name'),
    response: { 200: topicConfigsSchema },
    handler: async (req) => ({ name: req.params.name, configs: await admin.describeTopicConfigs(req.params.name) }),
  });
  addRoute<{ Params: { name: string }; Body: Record<string, string | null> }>(app, {
    method: 'PUT',
    url: '/api/topics/:name/configs',
    summary: "Change a topic's configs: a value sets the key, null removes its override; keys not named are kept",
    role: 'admin',
    params: nameParam('name'),
    body: {
      type: 'object',
      minProperties: 1,
      maxProperties: 100,
      additionalProperties: { type: ['string', 'null'], maxLength: 32767 },
    },
    response: { 200: topicConfigsSchema },
    handler: async (req) => {
      await admin.alterTopicConfigs(req.params.name, req.body);
      return { name: req.params.name, configs: await admin.describeTopicConfigs(req.params.name) };
    },
  });
  addRoute<{ Params: { name: string }; Body: { count: number } }>(app, {
    method: 'POST',
    url: '/api/topics/:name/partitions',
    summary: "Raise a topic's partition count to `count` (partitions are only ever added)",
    role: 'admin',
    params: nameParam('name'),
    body: {
      type: 'object',
      required: ['count'],
      additionalProperties: false,
      properties: { count: { type: 'integer', minimum: 1, maximum: 10000 } },
    },
    response: { 200: topicDescribeSchema, 400: errorSchema },
    handler: async (req) => {
      const name = req.params.name;
      const now = (await admin.describeTopic(name)).partitions.length;
      if (req.body.count <= now) {
        throw badRequest(
          `topic ${name} has ${now} partitions; count must be more than that (partitions cannot be removed)`,
        );
      }
      await admin.createPartitions({ topic: name, count: req.body.count });
      return admin.describeTopic(name);
    },
  });
  addRoute<{ Params: { name: string } }>(app, {
    method: 'DELETE',
    url: '/api/topics/:name',
    summary: 'Delete a topic',
    role: 'admin',
    params: nameParam('name'),
    handler: async (req) => {
      await admin.deleteTopic(req.params.name);
      return { deleted: req.params.name };
    },
  });
}

/** GET /api/messages: a look at a partition's records (registered last, so the OpenAPI paths keep their order). */
export function registerMessageBrowser(app: FastifyInstance, client: Sluice, admin: Admin): void {
  addRoute<{
    Querystring: { topic: string; partition: number; offset?: number; timestamp?: number; max: number };
  }>(app, {
    method: 'GET',
    url: '/api/messages',
    summary: 'Read records of a partition from an offset or a time',
    role: 'viewer',
    querystring: {
      type: 'object',
      required: ['topic'],
      additionalProperties: false,
      properties: {
        ...partitionReadQueryProperties,
        max: { type: 'integer', minimum: 1, maximum: messagesMax, default: 50 },
      },
    },
    response: {
      200: listOf(messageJsonProperties),
    },
    handler: async (req) => {
      const q = req.query;
      const consumer: Consumer = client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 });
      try {
        const described = await admin.describeTopic(q.topic);
        const p = described.partitions.find((x) => x.partition === q.partition);
        if (!p) throw new SluiceError(ErrorCode.UnknownPartition, `unknown partition ${q.topic}-${q.partition}`);
        consumer.assign([{ topic: q.topic, partition: q.partition, offset: q.offset ?? 'earliest' }]);
        if (q.timestamp !== undefined && q.offset === undefined) {
          await consumer.seekToTimestamp({ topic: q.topic, partition: q.partition, timestamp: q.timestamp });
        }
        const out: Message[] = [];
        const start = q.offset ?? 0;
        for (let round = 0; round < 5 && out.length < q.max; round++) {
          const position = consumer.position(q.topic, q.partition);
          if (position !== null && position >= p.highWatermark) break;
          if (start >= p.highWatermark) break;
          const batch = await consumer.poll({ maxWaitMs: 200, maxRecords: q.max - out.length });
          if (batch.length === 0) break;
          out.push(...batch);
        }
        return out.slice(0, q.max).map(messageJson);
      } finally {
        await consumer.close();
      }
    },
  });
}
