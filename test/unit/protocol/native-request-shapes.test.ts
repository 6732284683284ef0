/**
 * Every native API's request shape (src/protocol/native/request-shapes.ts):
 * the bodies Sluice's own clients write pass; a null in a list, a wrong type,
 * a missing field, a number out of range and an over-long list are refused,
 * naming the path; and the request types the clients use are the shapes'.
 */
import { describe, expect, it } from 'vitest';
import type { DeleteGroupsRequest as HandlerDeleteGroupsRequest } from '../../../src/handlers/delete-groups.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { nativeApis, requestShape } from '../../../src/protocol/native/apis.js';
import type { DeleteGroupsRequest } from '../../../src/protocol/native/group-messages.js';
import type { ProduceRequest } from '../../../src/protocol/native/messages.js';
import type { QueueSendRequest } from '../../../src/protocol/native/queue-messages.js';
import { refusalOf } from '../../../src/protocol/native/request-check.js';
import { formattedPath, mutated, nativeRequestExamples, pathSteps } from '../../helpers/native-requests.js';

describe('native request shapes, per API', () => {
  it('has a shape and an example for every API key', () => {
    const keys = Object.values(ApiKey).sort((a, b) => a - b);
    expect(
      Object.keys(nativeApis)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(keys);
    expect(nativeRequestExamples.map((e) => e.apiKey).sort((a, b) => a - b)).toEqual(keys);
    expect(requestShape(9999)).toBeUndefined();
    expect(requestShape(Number('constructor'))).toBeUndefined();
  });

  for (const example of nativeRequestExamples) {
    describe(example.name, () => {
      const shape = requestShape(example.apiKey);

      it('takes the well-formed body', () => {
        expect(shape?.problem(example.valid)).toBeUndefined();
        expect(refusalOf(example.apiKey, example.valid)).toBeUndefined();
      });

      it.each(
        example.malformed.map((m) => [m.remove ? `without ${m.path}` : `${m.path || 'body'} = ${label(m.value)}`, m]),
      )('refuses %s, naming the path', (_, mutation) => {
        const body = mutated(example.valid, mutation);
        const problem = shape?.problem(body);
        expect(problem, 'refused').toBeDefined();
        // the problem is at the changed value or inside it (a map replaced by {} lacks its first field)
        expect(problem?.path.slice(0, pathSteps(mutation.path).length)).toEqual(pathSteps(mutation.path));
        const refusal = refusalOf(example.apiKey, body);
        expect(refusal?.errorCode).toBe(WireError.INVALID_REQUEST);
        expect(refusal?.errorMessage).toContain(`malformed ${example.name} request: ${formattedPath(mutation.path)}`);
      });
    });
  }

  it('refuses a null in any list of any example', () => {
    let lists = 0;
    for (const example of nativeRequestExamples) {
      for (const path of listPaths(example.valid)) {
        lists++;
        const body = mutated(example.valid, { path: `${path}.0`, value: null });
        expect(requestShape(example.apiKey)?.problem(body), `${example.name} ${path}.0 = null`).toEqual(
          expect.objectContaining({ path: pathSteps(`${path}.0`) }),
        );
      }
    }
    expect(lists).toBeGreaterThan(20);
  });

  it('the client-side request types are the shapes (checked by the compiler)', () => {
    const produce: ProduceRequest = { acks: -1, timeoutMs: 1, topics: [{ name: 't', partitions: [] }] };
    // @ts-expect-error acks is 0, 1 or -1
    const badAcks: ProduceRequest = { acks: 2, topics: [] };
    // @ts-expect-error records are bytes
    const badRecords: ProduceRequest = { topics: [{ name: 't', partitions: [{ partition: 0, records: 'x' }] }] };
    const send: QueueSendRequest = { queue: 'q', messages: [{ value: null }] };
    const groups: HandlerDeleteGroupsRequest = { groups: [] } satisfies DeleteGroupsRequest;
    expect([produce, badAcks, badRecords, send, groups]).toHaveLength(5);
  });
});

function label(value: unknown): string {
  if (Buffer.isBuffer(value)) return 'bytes';
  if (value instanceof Date) return 'a Date';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 30 ? `${s.slice(0, 30)}...` : s;
}

/** Paths (dot-separated) of every list in `value` that holds at least one item. */
function listPaths(value: unknown, at = ''): string[] {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return [];
  const join = (k: string | number) => (at === '' ? String(k) : `${at}.${k}`);
  if (Array.isArray(value)) return value.length > 0 ? [at, ...listPaths(value[0], join(0))] : [];
  return Object.entries(value).flatMap(([k, v]) => listPaths(v, join(k)));
}
