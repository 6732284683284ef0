/**
 * DescribeClientQuotas / AlterClientQuotas handlers over a real standalone
 * LevelDB store: filters (exact, default, any; strict), per-entry refusals
 * that change nothing, validateOnly, persistence across a reopen, and Kafka's
 * authorization (DescribeConfigs / AlterConfigs on the Cluster).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StandaloneClientQuotaStore } from '../../../src/coordination/standalone/standalone-client-quota-store.js';
import { alterClientQuotasHandler, describeClientQuotasHandler } from '../../../src/handlers/client-quota-handlers.js';
import type { Authorizer, ClientInfo, HandlerContext } from '../../../src/handlers/context.js';
import { handlers } from '../../../src/handlers/index.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { AclOperation } from '../../../src/security/acl.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { type IndexDb, openIndexDb } from '../../../src/storage/index-store.js';
import { tempDir } from '../../helpers/temp-dir.js';

const client: ClientInfo = {
  clientId: 'c',
  clientHost: '127.0.0.1',
  principal: 'User:ANONYMOUS',
  connectionId: 1,
  onClose: () => {},
};

const open: IndexDb[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function makeTempDir(prefix: string): string {
  const { dir, cleanup } = tempDir(`${prefix}-`);
  cleanups.push(cleanup);
  return dir;
}

async function storeAt(dir: string): Promise<StandaloneClientQuotaStore> {
  const db = await openIndexDb(dir);
  open.push(db);
  const store = new StandaloneClientQuotaStore(db);
  await store.load();
  return store;
}

const ctxOf = (store: StandaloneClientQuotaStore, authorizer?: Authorizer) =>
  ({ coordinator: { clientQuotas: store }, ...(authorizer ? { authorizer } : {}) }) as unknown as HandlerContext;

const alter = (ctx: HandlerContext, entries: unknown[], validateOnly = false) =>
  alterClientQuotasHandler.handle({ entries, validateOnly } as never, ctx, client);
const describeQ = (ctx: HandlerContext, components: unknown[], strict = false) =>
  describeClientQuotasHandler.handle({ components, strict } as never, ctx, client);

describe('client quota handlers', () => {
  it('alters, filters and keeps quotas across a reopen; bad entries change nothing', async () => {
    const dir = makeTempDir('quota-store');
    const ctx = ctxOf(await storeAt(dir));
    const user = (name: string | null) => ({ entityType: 'user', entityName: name });
    const clientId = (name: string | null) => ({ entityType: 'client-id', entityName: name });
    const op = (key: string, value: number, remove = false) => ({ key, value, remove });
    const res = await alter(ctx, [
      { entity: [user('ann')], ops: [op('producer_byte_rate', 1000)] },
      { entity: [user('ann'), clientId(null)], ops: [op('consumer_byte_rate', 2000)] },
      { entity: [clientId(null)], ops: [op('producer_byte_rate', 3000)] },
      { entity: [{ entityType: 'ip', entityName: '1.2.3.4' }], ops: [op('producer_byte_rate', 1)] },
      { entity: [user('bob')], ops: [op('producer_byte_rate', -5)] },
      { entity: [user('bob')], ops: [op('bogus', 5)] },
    ]);
    expect(res?.entries.map((e) => e.errorCode)).toEqual([0, 0, 0, 42, 42, 42]);
    expect(
      (await alter(ctx, [{ entity: [user('eve')], ops: [op('producer_byte_rate', 9)] }], true))?.entries[0],
    ).toMatchObject({ errorCode: 0 });

    const all = await describeQ(ctx, []);
    expect(all?.entries).toHaveLength(3);
    const exact = await describeQ(ctx, [{ entityType: 'user', matchType: 0, match: 'ann' }], true);
    expect(exact?.entries).toEqual([{ entity: [user('ann')], values: [{ key: 'producer_byte_rate', value: 1000 }] }]);
    const defaults = await describeQ(ctx, [{ entityType: 'client-id', matchType: 1, match: null }]);
    expect(defaults?.entries.map((e) => e.entity)).toEqual(
      expect.arrayContaining([[user('ann'), clientId(null)], [clientId(null)]]),
    );
    await expect(describeQ(ctx, [{ entityType: 'ip', matchType: 2, match: null }])).rejects.toMatchObject({
      code: ErrorCode.InvalidRequest,
    });

    // a remove of the last key drops the entity; the rest is still there after a reopen
    await alter(ctx, [{ entity: [clientId(null)], ops: [op('producer_byte_rate', 0, true)] }]);
    await open.splice(0)[0]?.close();
    const reopened = ctxOf(await storeAt(dir));
    expect((await describeQ(reopened, []))?.entries.map((e) => e.entity)).toEqual(
      expect.arrayContaining([[user('ann')], [user('ann'), clientId(null)]]),
    );
    expect((await describeQ(reopened, []))?.entries).toHaveLength(2);
  });

  it('needs DescribeConfigs / AlterConfigs on the Cluster when the authorizer is on', async () => {
    const store = await storeAt(makeTempDir('quota-auth'));
    const asked: AclOperation[] = [];
    const denyAll: Authorizer = {
      allows: (_c, operation) => {
        asked.push(operation);
        return false;
      },
      allowsAny: () => false,
    };
    const ctx = ctxOf(store, denyAll);
    await expect(
      (async () => handlers[ApiKey.DescribeClientQuotas].handle({ components: [], strict: false }, ctx, client))(),
    ).rejects.toMatchObject({ code: ErrorCode.ClusterAuthorizationFailed });
    await expect(
      (async () => handlers[ApiKey.AlterClientQuotas].handle({ entries: [], validateOnly: false }, ctx, client))(),
    ).rejects.toMatchObject({ code: ErrorCode.ClusterAuthorizationFailed });
    expect(asked).toEqual([AclOperation.DescribeConfigs, AclOperation.AlterConfigs]);
  });
});
