/**
 * min.insync.replicas=2 with replication factor 3 in a real cluster: with
 * two of three brokers killed, the leader's ISR shrinks to itself and an
 * acks=-1 send is refused with NOT_ENOUGH_REPLICAS (client and CLI), while
 * acks=1 still works. Once one broker is back in the ISR, acks=-1 works
 * again, and a consumer sees exactly the acknowledged records: nothing of the
 * refused sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isSluiceError } from '../../src/index.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
const cli = new CliRunner();

beforeAll(async () => {
  cluster = await TestCluster.start({ brokers: 3, overrides: ['min.insync.replicas=2'], label: 'min-isr' });
}, 90_000);

afterAll(async () => {
  cli.killAll();
  await cluster?.stop();
}, 60_000);

describe('cluster min.insync.replicas', () => {
  it('refuses acks=-1 with NOT_ENOUGH_REPLICAS when two of three brokers are down; nothing refused becomes visible', async () => {
    const topic = 'guarded';
    const sluice = cluster.client({ retries: 2, retryBackoffMs: 100 });
    // min.insync.replicas=2 is the brokers' setting (config/server-N.properties has it too)
    await sluice.admin().createTopic({ topic, partitions: 1, replicationFactor: 3 });
    await cluster.waitForIsr(topic, 0, 3);

    const producer = sluice.producer({ acks: -1, retries: 2, retryBackoffMs: 100, timeoutMs: 10_000 });
    const first = await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `acked-${i}` })),
    });
    expect(first.map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const leader = await cluster.leaderOf(topic, 0);
    const followers = cluster.ids.filter((id) => id !== leader);
    for (const id of followers) await cluster.kill(id);
    // the leader drops the dead followers from the ISR after replica.lag.time.max.ms (3 s here)
    const shrunk = await cluster.waitForIsr(topic, 0, 1, 30_000);
    expect(shrunk).toMatchObject({ leader, isr: [leader] });

    const refused = await producer.send({ topic, messages: [{ value: 'refused-1' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSluiceError(refused), String(refused)).toBe(true);
    expect(refused).toMatchObject({ code: ErrorCode.NotEnoughReplicas });
    expect((refused as Error).message).toMatch(/NOT_ENOUGH_REPLICAS \(19\)/);

    const cliRefused = await cli.run(['produce', topic, '--acks', '-1'], {
      brokers: cluster.broker(leader).address,
      input: 'refused-2\n',
      timeoutMs: 60_000,
    });
    expectOneLineError(cliRefused, /NOT_ENOUGH_REPLICAS/);

    // min.insync.replicas applies to acks=-1 only
    const one = sluice.producer({ acks: 1, retries: 2 });
    const [viaAcks1] = await one.send({ topic, messages: [{ value: 'acked-acks1' }] });
    await one.close();
    expect(viaAcks1?.offset).toBe(10);

    const back = followers[0] as number;
    await cluster.restart(back);
    const grown = await cluster.waitForIsr(topic, 0, 2, 30_000);
    expect([...grown.isr].sort()).toEqual([leader, back].sort());

    const [after] = await producer.send({ topic, messages: [{ value: 'acked-after' }] });
    expect(after?.offset).toBe(11);
    await producer.close();

    const read = await cluster.readPartition(topic, 0);
    expect(read.map((r) => [r.offset, r.value?.toString()])).toEqual([
      ...first.map((m, i) => [m.offset, `acked-${i}`]),
      [10, 'acked-acks1'],
      [11, 'acked-after'],
    ]);
    expect(read.some((r) => r.value?.toString().startsWith('refused'))).toBe(false);
  }, 120_000);
});
