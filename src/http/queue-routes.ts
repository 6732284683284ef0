/** The admin API's queues and dead-letter queues (/api/queues, /api/dlq): stats, browse, purge, redrive. */
import type { FastifyInstance } from 'fastify';
import type { Admin } from '../client/admin.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { addRoute, anyObject, int, listOf, messageJson, messagesMax, nameParam, str } from './routes.js';

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

export function registerQueueRoutes(app: FastifyInstance, admin: Admin, config: BrokerConfig): void {
  addRoute(app, {
    method: 'GET',
    url: '/api/queues',
    summary: 'Every queue with its stats',
    role: 'viewer',
    response: { 200: { type: 'array', items: queueStatsSchema } },
    handler: async () => admin.listQueues(),
  });
  addRoute<{ Params: { name: string } }>(app, {
    method: 'GET',
    url: '/api/queues/:name',
    summary: "A queue's stats",
    role: 'viewer',
    params: nameParam('name'),
    response: { 200: queueStatsSchema },
    handler: async (req) => admin.queueStats(req.params.name),
  });
  addRoute<{ Params: { name: string }; Querystring: { max: number } }>(app, {
    method: 'GET',
    url: '/api/queues/:name/messages',
    summary: "Browse a queue's waiting messages without consuming them",
    role: 'viewer',
    params: nameParam('name'),
    querystring: {
      type: 'object',
      properties: { max: { type: 'integer', minimum: 1, maximum: messagesMax, default: 100 } },
    },
    response: { 200: { type: 'array', items: anyObject } },
    handler: async (req) => {
      const browsed = await admin.browseQueue(req.params.name, { maxMessages: req.query.max });
      return browsed.map((m) => ({ ...messageJson(m), deliveryCount: m.deliveryCount }));
    },
  });
  addRoute<{ Params: { name: string } }>(app, {
    method: 'POST',
    url: '/api/queues/:name/purge',
    summary: 'Remove every waiting message',
    role: 'admin',
    params: nameParam('name'),
    response: { 200: { type: 'object', properties: { purged: int } } },
    handler: async (req) => ({ purged: await admin.purgeQueue(req.params.name) }),
  });
  addRoute(app, {
    method: 'GET',
    url: '/api/dlq',
    summary: 'Dead-letter queues',
    role: 'viewer',
    response: {
      200: listOf({ dlq: str, queue: { type: ['string', 'null'] }, depth: int }),
    },
    handler: async () => {
      const shared = config.string('queue.dead.letter.queue');
      const list = await admin.listDeadLetterQueues(shared === '' ? undefined : shared);
      return list.map((d) => ({ dlq: d.dlq, queue: d.queue, depth: d.depth }));
    },
  });
  addRoute<{ Params: { queue: string } }>(app, {
    method: 'POST',
    url: '/api/dlq/:queue/redrive',
    summary: "Move a queue's dead letters back to it",
    role: 'admin',
    params: nameParam('queue'),
    response: { 200: { type: 'object', properties: { moved: int } } },
    handler: async (req) => ({ moved: await admin.redriveQueue(req.params.queue) }),
  });
}
