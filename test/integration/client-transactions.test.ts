/**
 * The native client's transactions (issue 21) against a real standalone
 * broker process: a committed transaction is visible to read_committed, an
 * aborted one never (read_uncommitted sees it, neither sees a marker);
 * sendOffsets commits the group's offsets with the transaction only;
 * a second producer with the same transactional id fences the first; a
 * producer killed (kill -9, its own process) mid-transaction has its
 * transaction aborted by the next instance's init; the admin and the CLI
 * list and describe transactions.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type IsolationLevel, Sluice } from '../../src/index.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { killAndWait } from '../helpers/child-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { waitFor } from '../helpers/group-consumers.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start();
});
afterAll(async () => {
  await broker?.destroy();
});
const cli = new CliRunner();
afterEach(async () => {
  cli.killAll();
  for (const c of children.splice(0)) await killAndWait(c);
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'txn-client-test' });
  clients.push(c);
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

/**
 * Every record value of partition 0 of `topic` read with `isolationLevel`,
 * up to and including the first value `last` (a committed sentinel written
 * after what is checked: read_committed reaches it only once everything
 * before it is decided).
 */
async function readUpTo(
  sluice: Sluice,
  topic: string,
  isolationLevel: IsolationLevel,
  last: string,
): Promise<string[]> {
  const consumer = sluice.consumer({ isolationLevel, maxWaitMs: 200 });
  consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
  const values: string[] = [];
  try {
    for (let polls = 0; polls < 600 && !values.includes(last); polls++) {
      for (const r of await consumer.poll({ maxWaitMs: 200 })) values.push(r.value?.toString() ?? '');
    }
  } finally {
    await consumer.close();
  }
  expect(values).toContain(last);
  return values;
}

async function commitSentinel(sluice: Sluice, transactionalId: string, topic: string, value: string): Promise<void> {
  const p = sluice.producer({ transactionalId });
  const t = await p.transaction();
  await t.send({ topic, messages: [{ value, partition: 0 }] });
  await t.commit();
  await p.close();
}

describe('native client transactions', () => {
  it('commit is visible to read_committed, abort never; markers are never records', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'tx-out', partitions: 1, replicationFactor: 1 });
    const producer = sluice.producer({ transactionalId: 'tx-visibility' });
    const committed = await producer.transaction();
    await committed.send({ topic: 'tx-out', messages: [{ value: 'c1', partition: 0 }] });
    await committed.send({ topic: 'tx-out', messages: [{ value: 'c2', partition: 0 }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'tx-out', messages: [{ value: 'a1', partition: 0 }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic: 'tx-out', messages: [{ value: 'end', partition: 0 }] });
    await last.commit();

    expect(await readUpTo(sluice, 'tx-out', 'read_committed', 'end')).toEqual(['c1', 'c2', 'end']);
    // read_uncommitted sees the aborted record; neither sees the three markers (offsets 2, 4, 6)
    expect(await readUpTo(sluice, 'tx-out', 'read_uncommitted', 'end')).toEqual(['c1', 'c2', 'a1', 'end']);
    const [described] = await sluice.admin().describeTransactions(['tx-visibility']);
    expect(described).toMatchObject({ transactionalId: 'tx-visibility', state: 'CompleteCommit', topicPartitions: [] });
    const listed = await sluice.admin().listTransactions();
    expect(listed.map((t) => t.transactionalId)).toContain('tx-visibility');
  });

  it('sendOffsets commits the group offsets with the transaction, and not when it aborts', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'tx-in', partitions: 1, replicationFactor: 1 });
    await sluice.admin().createTopic({ topic: 'tx-sink', partitions: 1, replicationFactor: 1 });
    const producer = sluice.producer({ transactionalId: 'tx-offsets' });
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'tx-sink', messages: [{ value: 'x', partition: 0 }] });
    await aborted.sendOffsets({
      consumerGroupId: 'tx-group',
      topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '5' }] }],
    });
    await aborted.abort();
    const committedOffset = async () =>
      (await sluice.admin().describeGroup('tx-group')).offsets.find((o) => o.topic === 'tx-in')?.committed ?? null;
    expect(await committedOffset().catch(() => null)).toBeNull();
    const txn = await producer.transaction();
    await txn.send({ topic: 'tx-sink', messages: [{ value: 'y', partition: 0 }] });
    await txn.sendOffsets({
      consumerGroupId: 'tx-group',
      topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '7' }] }],
    });
    await txn.commit();
    // the offsets become the group's when the marker lands on the offsets partition (after EndTxn's answer)
    let offset: number | null = null;
    for (let i = 0; i < 300 && offset !== 7; i++) {
      offset = await committedOffset();
      if (offset !== 7) await new Promise((r) => setTimeout(r, 100));
    }
    expect(offset).toBe(7);
  });

  it("sendOffsets with the consumer's generation (KIP-447): refused once the group rebalanced, accepted for the current one", async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'tx-gen-in', partitions: 2, replicationFactor: 1 });
    await sluice.admin().createTopic({ topic: 'tx-gen-out', partitions: 1, replicationFactor: 1 });
    // one client per member: a member's JoinGroup waits at the coordinator, holding its connection
    const consumer = (): ReturnType<Sluice['consumer']> =>
      client().consumer({
        groupId: 'tx-gen-group',
        isolationLevel: 'read_committed',
        autoCommit: false,
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 300,
        rebalanceTimeoutMs: 10_000,
        maxWaitMs: 100,
      });
    const a = consumer();
    await a.subscribe({ topics: ['tx-gen-in'] });
    await waitFor('the first member to join', () => a.groupGeneration() !== null && a.assignment().length === 2);
    const before = a.groupGeneration();
    if (!before) throw new Error('no generation');
    // a second member: the group rebalances; the generation the first member consumed in is over
    const b = consumer();
    await b.subscribe({ topics: ['tx-gen-in'] });
    await waitFor(
      'the rebalance',
      () => (a.groupGeneration()?.generationId ?? 0) > before.generationId && b.assignment().length === 1,
    ).catch((err) => {
      throw new Error(
        `${(err as Error).message}: ${JSON.stringify([a.groupGeneration(), a.assignment(), b.groupGeneration(), b.assignment()])}`,
      );
    });
    const producer = sluice.producer({ transactionalId: 'tx-gen' });
    const offsets = (metadata: typeof before, offset: string) => ({
      consumerGroupId: 'tx-gen-group',
      consumerGroupMetadata: metadata,
      topics: [{ topic: 'tx-gen-in', partitions: [{ partition: 0, offset }] }],
    });
    const stale = await producer.transaction();
    await stale.send({ topic: 'tx-gen-out', messages: [{ value: 'stale', partition: 0 }] });
    expect(await codeOf(stale.sendOffsets(offsets(before, '3')))).toBe(ErrorCode.IllegalGeneration);
    // only abortable now: committing output for records the group hands out again would duplicate them
    expect(await codeOf(stale.commit())).toBeDefined();
    await stale.abort();
    const current = a.groupGeneration();
    if (!current) throw new Error('no generation');
    const txn = await producer.transaction();
    await txn.send({ topic: 'tx-gen-out', messages: [{ value: 'current', partition: 0 }] });
    await txn.sendOffsets(offsets(current, '5'));
    await txn.commit();
    await a.close();
    await b.close();
    let offset: number | null = null;
    for (let i = 0; i < 300 && offset !== 5; i++) {
      const described = await sluice.admin().describeGroup('tx-gen-group');
      offset = described.offsets.find((o) => o.topic === 'tx-gen-in' && o.partition === 0)?.committed ?? null;
      if (offset !== 5) await new Promise((r) => setTimeout(r, 100));
    }
    expect(offset).toBe(5);
  });

  it('a second producer with the same transactional id fences the first', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'tx-fence', partitions: 1, replicationFactor: 1 });
    const first = sluice.producer({ transactionalId: 'tx-fenced' });
    const old = await first.transaction();
    await old.send({ topic: 'tx-fence', messages: [{ value: 'zombie', partition: 0 }] });
    const second = sluice.producer({ transactionalId: 'tx-fenced' });
    const fresh = await second.transaction();
    await fresh.send({ topic: 'tx-fence', messages: [{ value: 'fresh', partition: 0 }] });
    const code = await codeOf(old.commit());
    expect([ErrorCode.ProducerFenced, ErrorCode.InvalidProducerEpoch]).toContain(code);
    // fatal: the fenced producer refuses everything after
    expect(await codeOf(first.transaction())).toBe(code);
    await fresh.commit();
    expect(await readUpTo(sluice, 'tx-fence', 'read_committed', 'fresh')).toEqual(['fresh']);
  });

  it("a producer killed mid-transaction: the next instance's init aborts its transaction", async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'tx-killed', partitions: 1, replicationFactor: 1 });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'test/fixtures/txn-producer.ts'),
        broker.address,
        'tx-crash',
        'tx-killed',
        '3',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await waitFor('the child to send its records', () => out.includes('sent'), 60_000);
    const [open] = await sluice.admin().describeTransactions(['tx-crash']);
    expect(open).toMatchObject({ state: 'Ongoing', topicPartitions: [{ topic: 'tx-killed', partition: 0 }] });
    await killAndWait(child);

    // the next instance: its init aborts the open transaction (CONCURRENT_TRANSACTIONS until done)
    await commitSentinel(sluice, 'tx-crash', 'tx-killed', 'after');
    expect(await readUpTo(sluice, 'tx-killed', 'read_committed', 'after')).toEqual(['after']);
    expect(await readUpTo(sluice, 'tx-killed', 'read_uncommitted', 'after')).toEqual([
      'killed-0',
      'killed-1',
      'killed-2',
      'after',
    ]);
  });

  it('CLI: transactions list/describe (table and --json), consume --isolation-level', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'tx-cli', partitions: 1, replicationFactor: 1 });
    const producer = sluice.producer({ transactionalId: 'tx-cli-id' });
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'tx-cli', messages: [{ value: 'gone', partition: 0 }] });
    await aborted.abort();
    const open = await producer.transaction();
    await open.send({ topic: 'tx-cli', messages: [{ value: 'kept', partition: 0 }] });
    const brokers = broker.address;

    const described = await cli.run(['transactions', 'describe', 'tx-cli-id', '--json'], { brokers });
    expect(described.code, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({
      transactionalId: 'tx-cli-id',
      state: 'Ongoing',
      topicPartitions: [{ topic: 'tx-cli', partition: 0 }],
    });
    const table = await cli.run(['transactions', 'describe', 'tx-cli-id'], { brokers });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^CoordinatorId\s+TransactionalId\s+ProducerId\s+ProducerEpoch\s+TransactionState/);
    expect(table.stdout).toMatch(/tx-cli-id.*Ongoing.*tx-cli-0/);
    const list = await cli.run(['transactions', 'list', '--json'], { brokers });
    expect(list.code, list.stderr).toBe(0);
    expect(
      (JSON.parse(list.stdout) as { transactionalId: string; state: string }[]).find(
        (t) => t.transactionalId === 'tx-cli-id',
      ),
    ).toMatchObject({ state: 'Ongoing' });
    const listTable = await cli.run(['transactions', 'list'], { brokers });
    expect(listTable.stdout).toMatch(/^TransactionalId\s+Coordinator\s+ProducerId\s+TransactionState/);
    expectOneLineError(
      await cli.run(['transactions', 'describe', 'tx-nobody'], { brokers }),
      /TRANSACTIONAL_ID_NOT_FOUND|not found/i,
    );

    await open.commit();
    const committedOnly = await cli.run(
      [
        'consume',
        'tx-cli',
        '--from-beginning',
        '--isolation-level',
        'read_committed',
        '--max-messages',
        '1',
        '--timeout-ms',
        '10000',
      ],
      { brokers },
    );
    expect(committedOnly.code, committedOnly.stderr).toBe(0);
    expect(committedOnly.stdout).toBe('kept\n');
    const everything = await cli.run(
      [
        'consume',
        'tx-cli',
        '--from-beginning',
        '--isolation-level',
        'read_uncommitted',
        '--max-messages',
        '2',
        '--timeout-ms',
        '10000',
      ],
      { brokers },
    );
    expect(everything.stdout).toBe('gone\nkept\n');
    const bad = await cli.run(['consume', 'tx-cli', '--isolation-level', 'dirty'], { brokers });
    expect(bad.code).not.toBe(0);
  });
});
