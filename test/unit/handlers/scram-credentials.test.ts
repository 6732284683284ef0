/**
 * The DescribeUserScramCredentials and AlterUserScramCredentials handlers
 * over a real standalone store (LevelDB in a temp dir): per-user results with
 * Kafka's codes for each refusal, nothing changed for a refused user.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StandaloneScramStore } from '../../../src/coordination/standalone/standalone-scram-store.js';
import type { ClientInfo, HandlerContext } from '../../../src/handlers/context.js';
import {
  alterUserScramCredentialsHandler,
  describeUserScramCredentialsHandler,
} from '../../../src/handlers/scram-credentials.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { saltedPassword, verifyPassword } from '../../../src/security/scram.js';
import { type IndexDb, openIndexDb } from '../../../src/storage/index-store.js';
import { tempDir } from '../../helpers/temp-dir.js';

let db: IndexDb;
let store: StandaloneScramStore;
let cleanup: () => void;
let ctx: HandlerContext;
const client = {} as ClientInfo;

beforeAll(async () => {
  const t = tempDir('sluice-scram-');
  cleanup = t.cleanup;
  db = await openIndexDb(t.dir);
  store = new StandaloneScramStore(db);
  await store.load();
  ctx = { coordinator: { scramCredentials: store } } as unknown as HandlerContext;
});

afterAll(async () => {
  await db?.close();
  cleanup?.();
});

async function upsertion(name: string, mechanism: number, password: string, iterations = 4096) {
  const salt = randomBytes(16);
  const hash = mechanism === 2 ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256';
  return { name, mechanism, iterations, salt, saltedPassword: await saltedPassword(hash, password, salt, iterations) };
}

describe('AlterUserScramCredentials', () => {
  it('upserts and deletes per user, refusing with Kafka codes and changing nothing for a refused user', async () => {
    const res = await alterUserScramCredentialsHandler.handle(
      {
        deletions: [{ name: 'carol', mechanism: 1 }],
        upsertions: [
          await upsertion('alice', 1, 'a-pw'),
          await upsertion('alice', 2, 'a-pw', 8192),
          await upsertion('bob', 1, 'b-pw', 4000),
          await upsertion('dave', 3, 'd-pw'),
          await upsertion('', 1, 'x'),
          await upsertion('erin', 1, 'e'),
          await upsertion('erin', 1, 'e'),
        ],
      },
      ctx,
      client,
    );
    expect(res?.results.map((r) => [r.user, r.errorCode])).toEqual([
      ['carol', WireError.RESOURCE_NOT_FOUND],
      ['alice', 0],
      ['bob', WireError.UNACCEPTABLE_CREDENTIAL],
      ['dave', WireError.UNSUPPORTED_SASL_MECHANISM],
      ['', WireError.UNACCEPTABLE_CREDENTIAL],
      ['erin', WireError.DUPLICATE_RESOURCE],
    ]);
    const alice = store.credential('alice', 'SCRAM-SHA-512');
    expect(alice?.iterations).toBe(8192);
    expect(alice && (await verifyPassword('SCRAM-SHA-512', alice, 'a-pw'))).toBe(true);
    expect(store.describe().map((u) => u.user)).toEqual(['alice']);
  });
});

describe('DescribeUserScramCredentials', () => {
  it('describes every user, or the ones named, with Kafka codes for unknown and repeated names', async () => {
    const all = await describeUserScramCredentialsHandler.handle({ users: null }, ctx, client);
    expect(all?.results).toEqual([
      {
        user: 'alice',
        errorCode: 0,
        credentials: [
          { mechanism: 1, iterations: 4096 },
          { mechanism: 2, iterations: 8192 },
        ],
      },
    ]);
    const named = await describeUserScramCredentialsHandler.handle({ users: ['zed', 'alice', 'alice'] }, ctx, client);
    expect(named?.results.map((r) => [r.user, r.errorCode])).toEqual([
      ['zed', WireError.RESOURCE_NOT_FOUND],
      ['alice', WireError.DUPLICATE_RESOURCE],
    ]);
  });
});
