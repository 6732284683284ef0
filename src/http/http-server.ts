/**
 * The admin HTTP API (fastify) on http.host:http.port: JSON under /api/ with
 * a JSON schema per route (bad input is a 400) and an OpenAPI document built
 * from those schemas, /metrics (Prometheus), /healthz and /readyz. Data comes
 * from the broker's own native API through the client library. Every route
 * but login, /healthz and /readyz needs a session cookie or HTTP Basic auth:
 * anonymous is 401, a viewer on an admin route 403.
 */
import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { Connection } from '../client/connection.js';
import type { Consumer } from '../client/consumer.js';
import { Sluice } from '../client/sluice.js';
import type { Message } from '../client/types.js';
import type { BrokerConfig } from '../config/broker-config.js';
import type { Coordinator } from '../coordination/coordinator.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogManager } from '../storage/log-manager.js';
import type { BrokerMetrics } from './metrics.js';
import { FailureLimiter, type Session, SessionStore, sessionTtlMsDefault } from './sessions.js';
import { loadUsers, type Role, type UserRecord, verifyPassword } from './users.js';

export const sessionCookie = 'sluice_session';
const messagesMax = 500;
const previewBytesMax = 1024;

type Access = 'anonymous' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    session?: Session;
  }
  interface FastifySchema {
    summary?: string;
    produces?: string[];
  }
}

export interface HttpServerOptions {
  config: BrokerConfig;
  logger: Logger;
  brokerAddress: () => { host: string; port: number };
  coordinator: Coordinator;
  mode: 'standalone' | 'cluster';
  metrics?: BrokerMetrics;
  /** This broker's logs: size on disk of the partitions it holds. */
  logs?: LogManager;
  /** When this broker started (ms since the epoch). */
  startedAt?: number;
  /** Overrides the users file (tests). */
  users?: Map<string, UserRecord>;
}

export interface HttpServer {
  address: { host: string; port: number };
  app: FastifyInstance;
  close(): Promise<void>;
}

function preview(buf: Buffer | null): string | null {
  if (buf === null) return null;
  return buf.subarray(0, previewBytesMax).toString('utf8');
}

function messageJson(m: Message): object {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers)) headers[k] = preview(v) ?? '';
  return { offset: m.offset, timestamp: m.timestamp, key: preview(m.key), value: preview(m.value), headers };
}

function cookieToken(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === sessionCookie) return rest.join('=');
  }
  return undefined;
}

function basicCredentials(req: FastifyRequest): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const text = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

// ---- schemas ----
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const ints = { type: 'array', items: int } as const;
const errorSchema = { type: 'object', properties: { error: str, message: str, statusCode: int } } as const;
const nameParam = (name: string) =>
  ({
    type: 'object',
    required: [name],
    properties: { [name]: { type: 'string', minLength: 1, maxLength: 249 } },
  }) as const;
const partitionSchema = {
  type: 'object',
  properties: { partition: int, leader: int, replicas: ints, isr: ints, logStartOffset: int, highWatermark: int },
} as const;
const topicDescribeSchema = {
  type: 'object',
  properties: { name: str, partitions: { type: 'array', items: partitionSchema } },
} as const;
const queueStatsSchema = {
  type: 'object',
  properties: {
    queue: str,
    depth: int,
    inFlight: int,
    consumers: int,
    enqueued: int,
    dequeued: int,
    deadLettered: int,
  },
} as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { config, logger } = options;
  const users = options.users ?? (await loadUsers(config.string('http.users.file'), (message) => logger.warn(message)));
  const sessions = new SessionStore();
  const limiter = new FailureLimiter();
  const address = options.brokerAddress();
  const client = new Sluice({ brokers: `${address.host}:${address.port}`, clientId: 'sluice-http', retries: 2 });
  const admin = client.admin();
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });

  async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const access = req.routeOptions.config.access ?? 'admin';
    if (access === 'anonymous') return;
    let session: Session | undefined;
    const token = cookieToken(req);
    if (token) session = sessions.get(token);
    const basic = session ? undefined : basicCredentials(req);
    if (basic) {
      if (limiter.blocked(req.ip)) {
        await reply.code(429).send({ error: 'Too Many Requests', message: 'too many failed logins; try again later' });
        return;
      }
      const user = users.get(basic.username);
      if (user && (await verifyPassword(user, basic.password))) {
        session = { username: user.username, role: user.role, expiresAt: 0 };
      } else {
        limiter.fail(req.ip);
        logger.warn({ remote: req.ip, username: basic.username }, 'failed HTTP basic login');
      }
    }
    if (!session) {
      // the Basic challenge is for tools (curl, Prometheus); a page's own fetch gets a plain 401 so the
      // browser shows no password dialog of its own (and headless Chromium does not stall on it)
      if (req.headers['x-requested-with'] === undefined) reply.header('www-authenticate', 'Basic realm="sluice"');
      await reply.code(401).send({ error: 'Unauthorized', message: 'log in or use HTTP Basic auth' });
      return;
    }
    if (access === 'admin' && session.role !== 'admin') {
      await reply.code(403).send({ error: 'Forbidden', message: `role ${session.role} may not do this` });
      return;
    }
    req.session = session;
  }
  app.addHook('onRequest', authenticate);

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ error: 'Bad Request', message: err.message });
    if (err instanceof SluiceError) {
      const notFound = /unknown|not found|does not exist/i.test(err.message);
      return reply
        .code(notFound ? 404 : 400)
        .send({ error: notFound ? 'Not Found' : 'Bad Request', message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error({ err }, 'HTTP API request failed');
    return reply
      .code(status)
      .send({ error: status === 500 ? 'Internal Server Error' : 'Bad Request', message: err.message });
  });

  // ---- auth ----
  app.post(
    '/api/login',
    {
      config: { access: 'anonymous' },
      schema: {
        summary: 'Log in: sets the sluice_session cookie',
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', maxLength: 1024 },
          },
        },
        response: {
          200: { type: 'object', properties: { username: str, role: str } },
          401: errorSchema,
          429: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body as { username: string; password: string };
      if (limiter.blocked(req.ip)) {
        logger.warn({ remote: req.ip, username }, 'login refused: too many failed attempts');
        return reply.code(429).send({ error: 'Too Many Requests', message: 'too many failed logins; try again later' });
      }
      const user = users.get(username);
      if (!user || !(await verifyPassword(user, password))) {
        limiter.fail(req.ip);
        logger.warn({ remote: req.ip, username }, 'failed console login');
        return reply.code(401).send({ error: 'Unauthorized', message: 'wrong username or password' });
      }
      const token = sessions.create(user.username, user.role);
      reply.header(
        'set-cookie',
        `${sessionCookie}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(sessionTtlMsDefault / 1000)}`,
      );
      logger.info({ remote: req.ip, username }, 'console login');
      return { username: user.username, role: user.role };
    },
  );
  app.post(
    '/api/logout',
    { config: { access: 'anonymous' }, schema: { summary: 'Log out (ends the session)' } },
    async (req, reply) => {
      const token = cookieToken(req);
      if (token) sessions.delete(token);
      reply.header('set-cookie', `${sessionCookie}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { ok: true };
    },
  );
  app.get(
    '/api/me',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Who is logged in',
        response: { 200: { type: 'object', properties: { username: str, role: str } } },
      },
    },
    async (req) => ({ username: req.session?.username, role: req.session?.role }),
  );

  // ---- cluster and topics ----
  app.get(
    '/api/cluster',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Brokers and the controller',
        response: {
          200: {
            type: 'object',
            properties: {
              mode: str,
              controllerId: int,
              brokers: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: int,
                    host: str,
                    port: int,
                    // the Kafka-protocol listener; null when the broker runs none
                    kafkaPort: { type: ['integer', 'null'] },
                    controller: { type: 'boolean' },
                    // known for the broker answering (this one); null for the others
                    upSince: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => {
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
  );
  /** Bytes on this broker's disk of the topic's partitions it holds. */
  const localSize = (topic: string, partitions: number): number => {
    let size = 0;
    for (let p = 0; p < partitions; p++) size += options.logs?.get(topic, p)?.sizeBytes ?? 0;
    return size;
  };
  /** Records/s in and out of a topic through this broker since the previous call (bounded map). */
  const lastTotals = new Map<string, { at: number; in: number; out: number }>();
  const rates = (topic: string, now: number): { messagesInPerSec: number; messagesOutPerSec: number } => {
    const totals = options.metrics?.topicTotals(topic) ?? { in: 0, out: 0 };
    const last = lastTotals.get(topic);
    if (last || lastTotals.size < 1000) lastTotals.set(topic, { at: now, in: totals.in, out: totals.out });
    if (!last || now <= last.at) return { messagesInPerSec: 0, messagesOutPerSec: 0 };
    const seconds = (now - last.at) / 1000;
    return {
      messagesInPerSec: Math.round((totals.in - last.in) / seconds),
      messagesOutPerSec: Math.round((totals.out - last.out) / seconds),
    };
  };

  app.get(
    '/api/topics',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Every topic',
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: str,
                partitions: int,
                replicationFactor: int,
                underReplicatedPartitions: int,
                // this broker's view: its replicas' bytes on disk and the records through it
                sizeBytes: int,
                messagesInPerSec: { type: 'number' },
                messagesOutPerSec: { type: 'number' },
              },
            },
          },
        },
      },
    },
    async () => {
      const now = Date.now();
      return (await admin.describeTopic()).map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        underReplicatedPartitions: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
        sizeBytes: localSize(t.name, t.partitions.length),
        ...rates(t.name, now),
      }));
    },
  );
  app.get(
    '/api/topics/:name',
    {
      config: { access: 'viewer' },
      schema: { summary: "A topic's partitions", params: nameParam('name'), response: { 200: topicDescribeSchema } },
    },
    async (req) => admin.describeTopic((req.params as { name: string }).name),
  );
  app.post(
    '/api/topics',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Create a topic',
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
      },
    },
    async (req, reply) => {
      const body = req.body as {
        name: string;
        partitions?: number;
        replicationFactor?: number;
        configs?: Record<string, string>;
      };
      await admin.createTopic({
        topic: body.name,
        ...(body.partitions !== undefined ? { partitions: body.partitions } : {}),
        ...(body.replicationFactor !== undefined ? { replicationFactor: body.replicationFactor } : {}),
        ...(body.configs !== undefined ? { config: body.configs } : {}),
      });
      return reply.code(201).send(await admin.describeTopic(body.name));
    },
  );
  app.delete(
    '/api/topics/:name',
    { config: { access: 'admin' }, schema: { summary: 'Delete a topic', params: nameParam('name') } },
    async (req) => {
      await admin.deleteTopic((req.params as { name: string }).name);
      return { deleted: (req.params as { name: string }).name };
    },
  );

  // ---- groups ----
  app.get(
    '/api/groups',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Every consumer group',
        response: { 200: { type: 'array', items: { type: 'object', properties: { group: str, state: str } } } },
      },
    },
    async () => (await admin.listGroups()).map((g) => ({ group: g.group, state: g.state })),
  );
  app.get(
    '/api/groups/:group',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "A group's members, offsets and lag",
        params: nameParam('group'),
        response: { 200: anyObject },
      },
    },
    async (req) => admin.describeGroup((req.params as { group: string }).group),
  );
  app.post(
    '/api/groups/:group/reset-offsets',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Move a group's committed offsets on a topic (the group must be empty)",
        params: nameParam('group'),
        body: {
          type: 'object',
          required: ['topic', 'to'],
          additionalProperties: false,
          properties: {
            topic: { type: 'string', minLength: 1 },
            to: { type: 'string', enum: ['earliest', 'latest', 'offset', 'datetime'] },
            value: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
          },
        },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: { topic: str, partition: int, previous: { type: ['integer', 'null'] }, offset: int },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const group = (req.params as { group: string }).group;
      const body = req.body as {
        topic: string;
        to: 'earliest' | 'latest' | 'offset' | 'datetime';
        value?: string | number;
      };
      if ((body.to === 'offset' || body.to === 'datetime') && body.value === undefined) {
        return reply.code(400).send({ error: 'Bad Request', message: `body/value is required when to is ${body.to}` });
      }
      let to: Parameters<typeof admin.resetOffsets>[0]['to'];
      if (body.to === 'offset') {
        const offset = Number(body.value);
        if (!Number.isSafeInteger(offset) || offset < 0)
          return reply
            .code(400)
            .send({ error: 'Bad Request', message: 'body/value must be a non-negative integer offset' });
        to = { offset };
      } else if (body.to === 'datetime') to = { datetime: body.value as string | number };
      else to = body.to;
      return admin.resetOffsets({ group, topic: body.topic, to });
    },
  );

  // ---- queues ----
  app.get(
    '/api/queues',
    {
      config: { access: 'viewer' },
      schema: { summary: 'Every queue with its stats', response: { 200: { type: 'array', items: queueStatsSchema } } },
    },
    async () => admin.listQueues(),
  );
  app.get(
    '/api/queues/:name',
    {
      config: { access: 'viewer' },
      schema: { summary: "A queue's stats", params: nameParam('name'), response: { 200: queueStatsSchema } },
    },
    async (req) => admin.queueStats((req.params as { name: string }).name),
  );
  app.get(
    '/api/queues/:name/messages',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "Browse a queue's waiting messages without consuming them",
        params: nameParam('name'),
        querystring: {
          type: 'object',
          properties: { max: { type: 'integer', minimum: 1, maximum: messagesMax, default: 100 } },
        },
        response: { 200: { type: 'array', items: anyObject } },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      const { max } = req.query as { max: number };
      const browsed = await admin.browseQueue(name, { maxMessages: max });
      return browsed.map((m) => ({ ...messageJson(m), deliveryCount: m.deliveryCount }));
    },
  );
  app.post(
    '/api/queues/:name/purge',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Remove every waiting message',
        params: nameParam('name'),
        response: { 200: { type: 'object', properties: { purged: int } } },
      },
    },
    async (req) => ({ purged: await admin.purgeQueue((req.params as { name: string }).name) }),
  );
  app.get(
    '/api/dlq',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Dead-letter queues',
        response: {
          200: {
            type: 'array',
            items: { type: 'object', properties: { dlq: str, queue: { type: ['string', 'null'] }, depth: int } },
          },
        },
      },
    },
    async () => {
      const shared = config.string('queue.dead.letter.queue');
      const list = await admin.listDeadLetterQueues(shared === '' ? undefined : shared);
      return list.map((d) => ({ dlq: d.dlq, queue: d.queue, depth: d.depth }));
    },
  );
  app.post(
    '/api/dlq/:queue/redrive',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Move a queue's dead letters back to it",
        params: nameParam('queue'),
        response: { 200: { type: 'object', properties: { moved: int } } },
      },
    },
    async (req) => ({ moved: await admin.redriveQueue((req.params as { queue: string }).queue) }),
  );

  // ---- message browser ----
  app.get(
    '/api/messages',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Read records of a partition from an offset or a time',
        querystring: {
          type: 'object',
          required: ['topic'],
          additionalProperties: false,
          properties: {
            topic: { type: 'string', minLength: 1, maxLength: 249 },
            partition: { type: 'integer', minimum: 0, default: 0 },
            offset: { type: 'integer', minimum: 0 },
            timestamp: { type: 'integer', minimum: 0 },
            max: { type: 'integer', minimum: 1, maximum: messagesMax, default: 50 },
          },
        },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                offset: int,
                timestamp: int,
                key: { type: ['string', 'null'] },
                value: { type: ['string', 'null'] },
                headers: { type: 'object', additionalProperties: str },
              },
            },
          },
        },
      },
    },
    async (req) => {
      const q = req.query as { topic: string; partition: number; offset?: number; timestamp?: number; max: number };
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
  );

  // ---- metrics, health, OpenAPI ----
  app.get(
    '/metrics',
    { config: { access: 'viewer' }, schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } },
    async (_req, reply) => {
      if (!options.metrics) return reply.type('text/plain').send('');
      return reply.type(options.metrics.contentType).send(await options.metrics.text());
    },
  );
  app.get(
    '/healthz',
    {
      config: { access: 'anonymous' },
      schema: { summary: 'Liveness', response: { 200: { type: 'object', properties: { status: str } } } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { access: 'anonymous' },
      schema: {
        summary: "Readiness: the broker's native listener answers ApiVersions",
        response: { 200: anyObject, 503: anyObject },
      },
    },
    async (_req, reply) => {
      const { host, port } = options.brokerAddress();
      const conn = new Connection({
        host,
        port,
        clientId: 'sluice-readyz',
        connectTimeoutMs: 2000,
        requestTimeoutMs: 2000,
      });
      try {
        await conn.request(ApiKey.ApiVersions, {});
        return { status: 'ready' };
      } catch (err) {
        return reply.code(503).send({ status: 'not ready', message: (err as Error).message });
      } finally {
        conn.close();
      }
    },
  );
  app.get(
    '/api/openapi.json',
    { config: { access: 'viewer' }, schema: { summary: 'This OpenAPI document', response: { 200: anyObject } } },
    async () => openApiDocument(routes),
  );

  // console hook: the web console's static files and routes (src/http/console-routes.ts) when present
  await registerConsoleIfPresent(app);

  await app.listen({ host: config.string('http.host'), port: config.int('http.port') });
  const bound = app.server.address();
  const httpAddress =
    bound && typeof bound === 'object'
      ? { host: bound.address, port: bound.port }
      : { host: config.string('http.host'), port: config.int('http.port') };
  logger.info({ host: httpAddress.host, port: httpAddress.port }, 'http listening');
  return {
    address: httpAddress,
    app,
    async close() {
      await app.close();
      await client.close();
    },
  };
}

async function registerConsoleIfPresent(app: FastifyInstance): Promise<void> {
  const here = new URL('./console-routes.', import.meta.url);
  const candidates = [new URL(`${here.href}js`), new URL(`${here.href}ts`)];
  const found = candidates.find((u) => existsSync(u));
  if (!found) return;
  const mod = (await import(found.href)) as { registerConsole?: (app: FastifyInstance) => unknown };
  await mod.registerConsole?.(app);
}

/** OpenAPI 3 from the registered routes' schemas. */
export function openApiDocument(routes: RouteOptions[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const url = route.url;
    if (!url.startsWith('/api/') && !['/metrics', '/healthz', '/readyz'].includes(url)) continue;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const schema = (route.schema ?? {}) as {
      summary?: string;
      params?: { properties?: Record<string, object>; required?: string[] };
      querystring?: { properties?: Record<string, object>; required?: string[] };
      body?: object;
      response?: Record<string, object>;
    };
    const path = url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(schema.params?.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'path',
        required: true,
        schema: s,
      })),
      ...Object.entries(schema.querystring?.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: schema.querystring?.required?.includes(name) ?? false,
        schema: s,
      })),
    ];
    const responses: Record<string, object> = {};
    for (const [code, s] of Object.entries(schema.response ?? {}))
      responses[code] = { description: code, content: { 'application/json': { schema: s } } };
    responses['400'] = { description: 'bad input', content: { 'application/json': { schema: errorSchema } } };
    const access = (route.config as { access?: Access } | undefined)?.access ?? 'admin';
    if (access !== 'anonymous') {
      responses['401'] = { description: 'not logged in' };
      responses['403'] = { description: 'role not allowed' };
    }
    for (const method of methods) {
      const entry: Record<string, unknown> = {
        summary: schema.summary ?? '',
        'x-sluice-role': access,
        parameters,
        responses,
        ...(access === 'anonymous' ? { security: [] } : {}),
      };
      if (schema.body) entry.requestBody = { required: true, content: { 'application/json': { schema: schema.body } } };
      paths[path] = { ...(paths[path] ?? {}), [method.toLowerCase()]: entry };
    }
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Sluice admin API', version: '1' },
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        session: { type: 'apiKey', in: 'cookie', name: sessionCookie },
      },
    },
    security: [{ basic: [] }, { session: [] }],
    paths,
  };
}
