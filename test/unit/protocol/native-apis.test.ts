/**
 * The native API registry (src/protocol/native/apis.ts) and the contract it
 * types: every API key has a row and a handler, ApiVersions is the registry,
 * parseRequest is the one check (same refusals as the listener codecs give),
 * and the contract is strict: the `@ts-expect-error` lines below are
 * checked by `npm run typecheck`, so a contract that let them through would
 * fail it.
 */
import { describe, expect, it } from 'vitest';
import type { ClientInfo, Handler, HandlerContext, HandlerTable } from '../../../src/handlers/context.js';
import { handlers } from '../../../src/handlers/index.js';
import type { KafkaApi } from '../../../src/protocol/kafka/api.js';
import { heartbeatApi } from '../../../src/protocol/kafka/apis/heartbeat.js';
import { ApiKey, apiName } from '../../../src/protocol/native/api-keys.js';
import {
  type AnswerOf,
  isApiKey,
  nativeApis,
  type RequestOf,
  type ResponseOf,
  speaks,
  supportedVersions,
} from '../../../src/protocol/native/apis.js';
import type { HeartbeatRequest, JoinGroupWire } from '../../../src/protocol/native/group-messages.js';
import type { ProduceRequest } from '../../../src/protocol/native/messages.js';
import { checkRequest, parseRequest, refusalOf } from '../../../src/protocol/native/request-check.js';
import { isSluiceError } from '../../../src/shared/errors.js';
import { nativeRequestExamples } from '../../helpers/native-requests.js';

const keys = Object.values(ApiKey).sort((a, b) => a - b);
const ctx = {} as HandlerContext;
const client: ClientInfo = {
  clientId: 'c',
  clientHost: '',
  principal: 'User:ANONYMOUS',
  connectionId: 1,
  onClose: () => undefined,
};

function refusedWith(apiKey: ApiKey, body: unknown): string {
  try {
    parseRequest(apiKey, 0, body);
  } catch (err) {
    expect(isSluiceError(err, 'SLUICE_ERR_INVALID_REQUEST')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('parseRequest took the body');
}

describe('the native API registry', () => {
  it('has a row and a handler, under its own key, for every API key', () => {
    expect(
      Object.keys(nativeApis)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(keys);
    expect(
      Object.keys(handlers)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(keys);
    for (const key of keys) expect(handlers[key].apiKey).toBe(key);
    expect(isApiKey(9999)).toBe(false);
    expect(isApiKey(Number('constructor'))).toBe(false);
  });

  it('answers ApiVersions with the registry, by key ascending (version 0 of each, as before)', async () => {
    const answer = await handlers[ApiKey.ApiVersions].handle({}, ctx, client);
    expect(answer).toEqual({ errorCode: 0, apis: supportedVersions() });
    expect(answer?.apis).toEqual(
      keys.map((apiKey) => ({
        apiKey,
        minVersion: nativeApis[apiKey].minVersion,
        maxVersion: nativeApis[apiKey].maxVersion,
      })),
    );
    expect(answer?.apis.map((a) => [a.minVersion, a.maxVersion])).toEqual(keys.map(() => [0, 0]));
  });

  it('names every API key by its ApiKey member, and an unknown key by its number', () => {
    for (const [name, key] of Object.entries(ApiKey)) expect(apiName(key)).toBe(name);
    expect(apiName(999)).toBe('api 999');
    expect(apiName(-1)).toBe('api -1');
  });

  it('speaks exactly the versions of its rows', () => {
    expect(speaks(ApiKey.Produce, 0)).toBe(true);
    expect(speaks(ApiKey.Produce, 1)).toBe(false);
    expect(speaks(ApiKey.Produce, -1)).toBe(false);
    expect(speaks(9999, 0)).toBe(false);
  });
});

describe('parseRequest: the one check in front of every handler', () => {
  it("takes every API's well-formed example and hands the body on unchanged (no copy)", () => {
    for (const example of nativeRequestExamples) {
      if (!isApiKey(example.apiKey)) throw new Error(`${example.name} is not a native API`);
      expect(parseRequest(example.apiKey, 0, example.valid)).toBe(example.valid);
      expect(checkRequest(example.apiKey, 0, example.valid)).toEqual({ apiKey: example.apiKey, body: example.valid });
    }
  });

  it('refuses with the message the listener codecs answered before (INVALID_REQUEST, naming the field)', () => {
    expect(refusedWith(ApiKey.Produce, { acks: 1, timeoutMs: 1, topics: [null] })).toBe(
      'malformed Produce request: topics[0] must be a map',
    );
    expect(refusedWith(ApiKey.Produce, { acks: 5, topics: [] })).toBe(
      'malformed Produce request: acks must be one of 0, 1, -1',
    );
    expect(refusedWith(ApiKey.Heartbeat, { groupId: 'g', generationId: '1', memberId: 'm' })).toBe(
      'malformed Heartbeat request: generationId must be an int32',
    );
    expect(refusedWith(ApiKey.QueueAdmin, { op: 'drop' })).toBe(
      'malformed QueueAdmin request: op must be one of "stats", "browse", "purge", "redrive", "list"',
    );
    expect(refusedWith(ApiKey.Metadata, null)).toBe('malformed Metadata request: the body must be a map');
    for (const body of [{ topics: [null] }, { acks: 5, topics: [] }, null]) {
      const checked = checkRequest(ApiKey.Produce, 0, body);
      expect(checked).toEqual({ refusal: refusalOf(ApiKey.Produce, body) });
    }
  });
});

describe('the contract is strict (checked by the compiler)', () => {
  it('refuses a handler that answers the wrong body, or sits under the wrong key', () => {
    const heartbeat: Handler<typeof ApiKey.Heartbeat> = {
      apiKey: ApiKey.Heartbeat,
      // @ts-expect-error a Heartbeat answer's errorCode is a number
      handle: async () => ({ errorCode: 'none' }),
    };
    const metadata: Handler<typeof ApiKey.Metadata> = {
      apiKey: ApiKey.Metadata,
      // @ts-expect-error a Metadata answer without brokers, controllerId and topics
      handle: async () => ({ errorCode: 0 }),
    };
    const misfiled: Handler<typeof ApiKey.Heartbeat> = {
      // @ts-expect-error the handler of Heartbeat states Heartbeat's key
      apiKey: ApiKey.LeaveGroup,
      handle: async () => ({ errorCode: 0 }),
    };
    // @ts-expect-error a table without a handler for every key
    const partial: HandlerTable = { [ApiKey.Heartbeat]: heartbeat };
    // @ts-expect-error a table with Heartbeat's handler under Metadata's key
    const swapped: HandlerTable = { ...handlers, [ApiKey.Metadata]: heartbeat };
    expect([heartbeat, metadata, misfiled, partial, swapped]).toHaveLength(5);
  });

  it('types requests and answers per key, for handlers and Kafka adapters alike', () => {
    const request: RequestOf<typeof ApiKey.Heartbeat> = { groupId: 'g', generationId: 1, memberId: 'm' };
    // @ts-expect-error a Heartbeat request names its member
    const incomplete: RequestOf<typeof ApiKey.Heartbeat> = { groupId: 'g', generationId: 1 };
    const same: HeartbeatRequest = request;
    const join: RequestOf<typeof ApiKey.JoinGroup> extends JoinGroupWire ? true : false = true;
    const produce: ProduceRequest extends RequestOf<typeof ApiKey.Produce> ? true : false = true;
    const answer: ResponseOf<typeof ApiKey.SyncGroup> = { errorCode: 0, assignment: Buffer.alloc(0) };
    // checking a field of the body tells an answer from a refusal
    const assigned = (a: AnswerOf<typeof ApiKey.SyncGroup>) =>
      a.assignment === undefined ? null : a.assignment.length;
    const assignment = [assigned(answer), assigned({ errorCode: 42, errorMessage: 'refused' })];
    const adapter: KafkaApi<{ groupId: string }, object, typeof ApiKey.Heartbeat> = {
      ...heartbeatApi,
      // @ts-expect-error a Heartbeat adapter must give the native request every field
      toNative: (req: { groupId: string }) => ({ groupId: req.groupId, generationId: 1 }),
    };
    expect([request, incomplete, same, join, produce, answer, assignment, adapter]).toHaveLength(8);
  });
});
