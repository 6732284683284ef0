/**
 * How an admin API route is declared: its method, URL, summary, role, JSON
 * schemas and handler, nothing else. `addRoute` turns that into fastify's
 * route options: the role becomes `config.access` (read by the auth hook and
 * the OpenAPI document), the summary and schemas the route's schema. Errors a
 * handler throws go to the server's one error handler (400/404/500).
 * Also here: the schema pieces and the message JSON the routes share.
 */
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { Message } from '../client/types.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Role } from './users.js';

/** Who may call a route: anyone, or a logged-in user with at least this role. */
export type Access = 'anonymous' | Role;

export interface ApiRoute<G extends RouteGenericInterface> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  role: Access;
  params?: object;
  querystring?: object;
  body?: object;
  /** By status code. */
  response?: Record<number, object>;
  produces?: string[];
  handler: RouteHandlerMethod<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, G>;
}

export function addRoute<G extends RouteGenericInterface = RouteGenericInterface>(
  app: FastifyInstance,
  route: ApiRoute<G>,
): void {
  const { method, url, summary, role, handler, ...schemas } = route;
  app.route<G>({ method, url, config: { access: role }, schema: { summary, ...schemas }, handler });
}

/** A route's answer when its input passes the schema but still makes no sense: a 400. */
export function badRequest(message: string): Error {
  return new SluiceError(ErrorCode.InvalidArgument, message);
}

// ---- schema pieces ----
export const str = { type: 'string' } as const;
export const int = { type: 'integer' } as const;
export const ints = { type: 'array', items: int } as const;
/** An array of objects with these properties. */
export const listOf = (properties: Record<string, object>) =>
  ({ type: 'array', items: { type: 'object', properties } }) as const;
export const anyObject = { type: 'object', additionalProperties: true } as const;
export const errorSchema = { type: 'object', properties: { error: str, message: str, statusCode: int } } as const;
/** Path parameters that are one name (a topic, group or queue). */
export const nameParam = (name: string) =>
  ({
    type: 'object',
    required: [name],
    properties: { [name]: { type: 'string', minLength: 1, maxLength: 249 } },
  }) as const;
/** The query parameter `max`: how many messages a browse returns at the most. */
export const messagesMax = 500;

/** Bytes of a key, value or header shown as text. */
const previewBytesMax = 1024;

function preview(buf: Buffer | null): string | null {
  if (buf === null) return null;
  return buf.subarray(0, previewBytesMax).toString('utf8');
}

/** The JSON schema properties of messageJson's result (one definition for every route that returns messages). */
export const messageJsonProperties = {
  offset: int,
  timestamp: int,
  key: { type: ['string', 'null'] },
  value: { type: ['string', 'null'] },
  headers: { type: 'object', additionalProperties: str },
} as const;

/** Query properties that pick where a partition is read from (by offset or by time). */
export const partitionReadQueryProperties = {
  topic: { type: 'string', minLength: 1, maxLength: 249 },
  partition: { type: 'integer', minimum: 0, default: 0 },
  offset: { type: 'integer', minimum: 0 },
  timestamp: { type: 'integer', minimum: 0 },
} as const;

/** A topic or queue message as JSON: its key, value and headers as text, cut at 1 KiB. */
export function messageJson(m: Message): object {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers)) headers[k] = preview(v) ?? '';
  return { offset: m.offset, timestamp: m.timestamp, key: preview(m.key), value: preview(m.value), headers };
}
