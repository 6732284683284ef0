/**
 * The SCRAM credential store of a Coordinator (issue 17): credentials set and
 * deleted per user and mechanism, described without secrets, durable across a
 * reopen and seen by every member of the cluster.
 */
import { expect, it } from 'vitest';
import { scramCredential, verifyPassword } from '../../src/security/scram.js';
import { ErrorCode } from '../../src/shared/errors.js';
import { type ComplianceContext, eventually } from './coordinator-harness.js';

export function registerScramTests(ctx: ComplianceContext): void {
  it('stores SCRAM credentials per user and mechanism, durably, and every member reads them', async () => {
    const store = ctx.cluster.coordinator.scramCredentials;
    expect(store).toBeDefined();
    if (!store) return;
    expect(store.describe()).toEqual([]);
    const alice256 = await scramCredential('SCRAM-SHA-256', 'a-secret');
    const alice512 = await scramCredential('SCRAM-SHA-512', 'a-secret', { iterations: 8192 });
    await store.alter('alice', { 'SCRAM-SHA-256': alice256, 'SCRAM-SHA-512': alice512 });
    await store.alter('b*b =,x', { 'SCRAM-SHA-512': await scramCredential('SCRAM-SHA-512', 'b') });
    expect(store.credential('alice', 'SCRAM-SHA-256')).toEqual(alice256);
    expect(store.describe()).toEqual([
      {
        user: 'alice',
        credentials: [
          { mechanism: 'SCRAM-SHA-256', iterations: 4096 },
          { mechanism: 'SCRAM-SHA-512', iterations: 8192 },
        ],
      },
      { user: 'b*b =,x', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    for (const member of ctx.cluster.members()) {
      await eventually(
        () => member.scramCredentials?.credential('b*b =,x', 'SCRAM-SHA-512'),
        'the credential on every member',
      );
    }
    // deleting one that does not exist changes nothing
    await expect(store.alter('alice', { 'SCRAM-SHA-256': null, 'SCRAM-SHA-512': null })).resolves.toBeUndefined();
    await expect(store.alter('alice', { 'SCRAM-SHA-256': null })).rejects.toMatchObject({
      code: ErrorCode.ResourceNotFound,
    });
    await expect(store.alter('', { 'SCRAM-SHA-256': alice256 })).rejects.toMatchObject({
      code: ErrorCode.UnacceptableCredential,
    });
    expect(store.describe().map((u) => u.user)).toEqual(['b*b =,x']);
    const reopened = await ctx.cluster.reopen();
    const kept = reopened.scramCredentials?.credential('b*b =,x', 'SCRAM-SHA-512');
    expect(kept).toBeDefined();
    if (kept) expect(await verifyPassword('SCRAM-SHA-512', kept, 'b')).toBe(true);
    expect(reopened.scramCredentials?.credential('alice', 'SCRAM-SHA-256')).toBeUndefined();
  });

  it('keeps the console users import record: created once, replaced only at the version read, durable', async () => {
    const legacy = ctx.cluster.coordinator.legacyConsoleUsers;
    expect(legacy).toBeDefined();
    if (!legacy) return;
    expect(await legacy.read()).toBeUndefined();
    const record = { importedAt: 1, file: 'users.properties', pending: { dave: 'viewer:aa:bb' } };
    expect(await legacy.create(record)).toBe(true);
    // another broker's import finds it and does not replace it
    expect(await legacy.create({ ...record, pending: {} })).toBe(false);
    const read = await legacy.read();
    expect(read?.record).toEqual(record);
    if (!read) return;
    expect(await legacy.replace({ ...record, pending: {} }, read.version)).toBe(true);
    // a replace at a version read before that one changes nothing
    expect(await legacy.replace(record, read.version)).toBe(false);
    const reopened = await ctx.cluster.reopen();
    expect((await reopened.legacyConsoleUsers?.read())?.record).toEqual({ ...record, pending: {} });
  });
}
