/**
 * Well-shaped native requests with hostile values, for every API: each
 * number of each example body (test/helpers/native-requests.ts) set to
 * -1, 0, the int32 bounds and the largest safe integer; each text to '',
 * 300 characters and '..'; each list emptied. They
 * pass the shape check, so they reach the handlers: every one must be
 * answered with a result or a typed error (never UNKNOWN_SERVER_ERROR, at
 * any level of the answer), the broker must log no "request failed" and keep
 * serving a normal client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/client/sluice.js';
import { WireError } from '../../src/protocol/error-codes.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { type Mutation, mutated, nativeRequestExamples } from '../helpers/native-requests.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess;
let client: Sluice;

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=0'] });
  client = new Sluice({ brokers: [broker.address] });
  await client.admin().createTopic({ topic: 'shapes', partitions: 2 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await broker?.destroy();
});

const numbers = [-1, 0, 0x7fffffff, -0x80000000, Number.MAX_SAFE_INTEGER];
// (internal topic names are issue 14's defect 3, tested with it)
const texts = ['', 'x'.repeat(300), '..'];
/** APIs that may wait (long polls, rebalances): no answer within a short time is fine for them. */
const waiting = new Set(['Fetch', 'QueueFetch', 'JoinGroup', 'SyncGroup']);

/** Every leaf of `value` (dot paths), with the hostile values of its type. */
function hostileMutations(value: unknown, at = ''): Mutation[] {
  const join = (k: string | number) => (at === '' ? String(k) : `${at}.${k}`);
  if (typeof value === 'number') return numbers.map((n) => ({ path: at, value: n }));
  if (typeof value === 'string') return texts.map((t) => ({ path: at, value: t }));
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) {
    return value.length === 0 ? [] : [{ path: at, value: [] }, ...hostileMutations(value[0], join(0))];
  }
  // (a config key like retention.ms cannot be named by a dot path: config values are left alone)
  return Object.entries(value)
    .filter(([k]) => !k.includes('.'))
    .flatMap(([k, v]) => hostileMutations(v, join(k)));
}

/** Every errorCode anywhere in an answer. */
function errorCodes(value: unknown): number[] {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(errorCodes);
  return Object.entries(value).flatMap(([k, v]) => (k === 'errorCode' && typeof v === 'number' ? [v] : errorCodes(v)));
}

describe('native requests with hostile values', () => {
  it('are answered with results or typed errors, never an unexpected failure', async () => {
    const failures: string[] = [];
    let sent = 0;
    for (const example of nativeRequestExamples) {
      for (const mutation of hostileMutations(example.valid)) {
        const body = mutated(example.valid, mutation);
        // its own connection: a long poll must not hold up the next answer (answers come in request order)
        const conn = await RawClient.connect(broker.port);
        const answer = await conn
          .call(example.apiKey, body, waiting.has(example.name) ? 3000 : 15_000)
          .catch((err: Error) => ({ timeout: err.message }));
        conn.close();
        sent++;
        if ('timeout' in answer) {
          // produce with acks 0 is never answered, by design
          const acksZero = example.name === 'Produce' && mutation.path === 'acks' && mutation.value === 0;
          if (!waiting.has(example.name) && !acksZero)
            failures.push(`${example.name} ${mutation.path}=${String(mutation.value)}: no answer`);
        } else if (errorCodes(answer).includes(WireError.UNKNOWN_SERVER_ERROR)) {
          failures.push(
            `${example.name} ${mutation.path}=${String(mutation.value).slice(0, 20)}: ${JSON.stringify(answer).slice(0, 200)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(300);
    expect(broker.recentOutput).not.toMatch(/"msg":"request failed"/);
    expect(broker.recentOutput).not.toMatch(/TypeError|RangeError/);

    const producer = client.producer({ acks: -1 });
    const [sentRecord] = await producer.send({ topic: 'shapes', messages: [{ partition: 1, value: 'after' }] });
    await producer.close();
    expect(sentRecord?.offset).toBeGreaterThanOrEqual(0);
  }, 600_000);
});
