/** The admin API's consumer groups (/api/groups): list, describe, reset offsets. */
import type { FastifyInstance } from 'fastify';
import type { Admin } from '../client/admin.js';
import { consoleGroupsDescribedMax } from '../shared/limits.js';
import { addRoute, anyObject, badRequest, errorSchema, int, listOf, nameParam, str } from './routes.js';

/** Groups GET /api/groups describes at once. */
const describeParallel = 10;

export function registerGroupRoutes(app: FastifyInstance, admin: Admin): void {
  addRoute(app, {
    method: 'GET',
    url: '/api/groups',
    summary: 'Every consumer group',
    role: 'viewer',
    response: {
      200: listOf({
        group: str,
        state: str,
        // null past the first consoleGroupsDescribedMax groups (src/shared/limits.ts) or when the describe failed
        members: { type: ['integer', 'null'] },
        // the sum of the known per-partition lags
        totalLag: { type: ['integer', 'null'] },
      }),
    },
    handler: async () => {
      const groups = await admin.listGroups();
      const described = new Map<string, { members: number; totalLag: number }>();
      const first = groups.slice(0, consoleGroupsDescribedMax);
      // a few at a time: each is a DescribeGroups and an OffsetFetch on its coordinator
      for (let i = 0; i < first.length; i += describeParallel) {
        await Promise.all(
          first.slice(i, i + describeParallel).map(async (g) => {
            try {
              const d = await admin.describeGroup(g.group);
              const totalLag = d.offsets.reduce((n, o) => n + (o.lag ?? 0), 0);
              described.set(g.group, { members: d.members.length, totalLag });
            } catch {
              // listed but gone (or its coordinator moving): shown without members and lag
            }
          }),
        );
      }
      return groups.map((g) => ({
        group: g.group,
        state: g.state,
        members: described.get(g.group)?.members ?? null,
        totalLag: described.get(g.group)?.totalLag ?? null,
      }));
    },
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
