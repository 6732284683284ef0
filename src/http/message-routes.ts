/**
 * The console's message tools: a bounded search of a partition by key/value
 * substring (GET /api/messages/search) and producing a test message
 * (POST /api/messages, admin).
 */
import type { FastifyInstance } from 'fastify';
import type { Admin } from '../client/admin.js';
import type { Producer } from '../client/producer.js';
import type { Sluice } from '../client/sluice.js';
import type { Message } from '../client/types.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { messageSearchPollMax, messageSearchScanMax } from '../shared/limits.js';
import {
  addRoute,
  badRequest,
  errorSchema,
  int,
  messageJson,
  messageJsonProperties,
  messagesMax,
  partitionReadQueryProperties,
  str,
} from './routes.js';

/** Headers one produced test message may carry (a test message, not a bulk path). */
const testHeadersMax = 64;

const messageSchema = { type: 'object', properties: messageJsonProperties } as const;

interface SearchQuery {
  topic: string;
  partition: number;
  offset?: number;
  timestamp?: number;
  contains: string;
  in: 'key' | 'value' | 'any';
  scanMax: number;
  max: number;
}

/** Case-insensitive: does `buf`, read as UTF-8, contain `needle` (already lower case)? */
function holds(buf: Buffer | null, needle: string): boolean {
  return buf?.toString('utf8').toLowerCase().includes(needle) ?? false;
}

export function registerMessageRoutes(app: FastifyInstance, client: Sluice, admin: Admin): void {
  addRoute<{ Querystring: SearchQuery }>(app, {
    method: 'GET',
    url: '/api/messages/search',
    summary:
      "Search a partition's records for a key or value substring (case-insensitive), scanning at most scanMax records from an offset or a time",
    role: 'viewer',
    querystring: {
      type: 'object',
      required: ['topic', 'contains'],
      additionalProperties: false,
      properties: {
        ...partitionReadQueryProperties,
        contains: { type: 'string', minLength: 1, maxLength: 1024 },
        in: { type: 'string', enum: ['key', 'value', 'any'], default: 'any' },
        scanMax: { type: 'integer', minimum: 1, maximum: messageSearchScanMax, default: messageSearchScanMax },
        max: { type: 'integer', minimum: 1, maximum: messagesMax, default: 50 },
      },
    },
    response: {
      200: {
        type: 'object',
        properties: {
          // records read; the search stops at scanMax, at max matches or at the high watermark
          scanned: int,
          // where a next search goes on from (the offset after the last record read)
          nextOffset: int,
          highWatermark: int,
          reachedEnd: { type: 'boolean' },
          matches: { type: 'array', items: messageSchema },
        },
      },
      400: errorSchema,
    },
    handler: async (req) => {
      const q = req.query;
      if (q.offset !== undefined && q.timestamp !== undefined) throw badRequest('give offset or timestamp, not both');
      const described = await admin.describeTopic(q.topic);
      const p = described.partitions.find((x) => x.partition === q.partition);
      if (!p) throw new SluiceError(ErrorCode.UnknownPartition, `unknown partition ${q.topic}-${q.partition}`);
      const needle = q.contains.toLowerCase();
      const consumer = client.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 200 });
      try {
        const from = q.offset === undefined ? 'earliest' : Math.max(q.offset, p.logStartOffset);
        consumer.assign([{ topic: q.topic, partition: q.partition, offset: from }]);
        if (q.timestamp !== undefined) {
          await consumer.seekToTimestamp({ topic: q.topic, partition: q.partition, timestamp: q.timestamp });
        }
        const matches: Message[] = [];
        let scanned = 0;
        let next = typeof from === 'number' ? from : p.logStartOffset;
        // each round reads at least one record or stops, so the loop ends within scanMax rounds
        while (scanned < q.scanMax && matches.length < q.max) {
          const position = consumer.position(q.topic, q.partition);
          if (position !== null) next = position;
          if (next >= p.highWatermark) break;
          const batch = await consumer.poll({
            maxWaitMs: 200,
            maxRecords: Math.min(messageSearchPollMax, q.scanMax - scanned),
          });
          if (batch.length === 0) break;
          for (const m of batch) {
            if (scanned >= q.scanMax || matches.length >= q.max) break;
            scanned++;
            next = m.offset + 1;
            const hit = (q.in !== 'value' && holds(m.key, needle)) || (q.in !== 'key' && holds(m.value, needle));
            if (hit) matches.push(m);
          }
        }
        return {
          scanned,
          nextOffset: next,
          highWatermark: p.highWatermark,
          reachedEnd: next >= p.highWatermark,
          matches: matches.map(messageJson),
        };
      } finally {
        await consumer.close();
      }
    },
  });

  let producer: Producer | undefined;
  addRoute<{
    Body: {
      topic: string;
      partition?: number;
      key?: string | null;
      value: string | null;
      headers?: Record<string, string>;
    };
  }>(app, {
    method: 'POST',
    url: '/api/messages',
    summary: 'Produce one test message (key, value and headers as text) and return its partition and offset',
    role: 'admin',
    body: {
      type: 'object',
      required: ['topic', 'value'],
      additionalProperties: false,
      properties: {
        topic: { type: 'string', minLength: 1, maxLength: 249 },
        partition: { type: 'integer', minimum: 0 },
        key: { type: ['string', 'null'], maxLength: 65536 },
        // the request body is at most 1 MiB (the server's bodyLimit)
        value: { type: ['string', 'null'] },
        headers: {
          type: 'object',
          maxProperties: testHeadersMax,
          additionalProperties: { type: 'string', maxLength: 65536 },
        },
      },
    },
    response: { 201: { type: 'object', properties: { topic: str, partition: int, offset: int } }, 400: errorSchema },
    handler: async (req, reply) => {
      const b = req.body;
      // a missing topic is a 404 here rather than one auto-created by the send
      const described = await admin.describeTopic(b.topic);
      if (b.partition !== undefined && !described.partitions.some((x) => x.partition === b.partition)) {
        throw badRequest(`topic ${b.topic} has no partition ${b.partition} (it has ${described.partitions.length})`);
      }
      producer ??= client.producer();
      const [meta] = await producer.send({
        topic: b.topic,
        messages: [
          {
            key: b.key ?? null,
            value: b.value,
            ...(b.headers ? { headers: b.headers } : {}),
            ...(b.partition !== undefined ? { partition: b.partition } : {}),
          },
        ],
      });
      return reply.code(201).send({ topic: b.topic, partition: meta?.partition ?? -1, offset: meta?.offset ?? -1 });
    },
  });
}
