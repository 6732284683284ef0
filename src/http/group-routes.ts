/** The admin API's consumer groups (/api/groups): list, describe, reset offsets. */
import type { FastifyInstance } from 'fastify';
import type { Admin } from '../client/admin.js';
import { addRoute, anyObject, badRequest, errorSchema, int, listOf, nameParam, str } from './routes.js';

export function registerGroupRoutes(app: FastifyInstance, admin: Admin): void {
  addRoute(app, {
    method: 'GET',
    url: '/api/groups',
    summary: 'Every consumer group',
    role: 'viewer',
    response: { 200: listOf({ group: str, state: str }) },
    handler: async () => (await admin.listGroups()).map((g) => ({ group: g.group, state: g.state })),
  });
  addRoute<{ Params: { group: string } }>(app, {
    method: 'GET',
    url: '/api/groups/:group',
    summary: "A group's members, offsets and lag",
    role: 'viewer',
    params: nameParam('group'),
    response: { 200: anyObject },
    handler: async (req) => admin.describeGroup(req.params.group),
  });
  addRoute<{
    Params: { group: string };
    Body: { topic: string; to: 'earliest' | 'latest' | 'offset' | 'datetime'; value?: string | number };
  }>(app, {
    method: 'POST',
    url: '/api/groups/:group/reset-offsets',
    summary: "Move a group's committed offsets on a topic (the group must be empty)",
    role: 'admin',
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
      200: listOf({ topic: str, partition: int, previous: { type: ['integer', 'null'] }, offset: int }),
      400: errorSchema,
    },
    handler: async (req) => {
      const body = req.body;
      if ((body.to === 'offset' || body.to === 'datetime') && body.value === undefined) {
        throw badRequest(`body/value is required when to is ${body.to}`);
      }
      let to: Parameters<typeof admin.resetOffsets>[0]['to'];
      if (body.to === 'offset') {
        const offset = Number(body.value);
        if (!Number.isSafeInteger(offset) || offset < 0)
          throw badRequest('body/value must be a non-negative integer offset');
        to = { offset };
      } else if (body.to === 'datetime') to = { datetime: body.value as string | number };
      else to = body.to;
      return admin.resetOffsets({ group: req.params.group, topic: body.topic, to });
    },
  });
}
