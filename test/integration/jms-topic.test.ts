/**
 * JMS-style topics through the client library against a real broker: every
 * subscriber gets each message; a non-durable subscriber misses what was
 * published before it subscribed (and while it was away), a durable one gets
 * it after reconnecting; unsubscribe (DeleteGroups) removes a durable
 * subscription — only while nobody is subscribed to it — so subscribing
 * again starts fresh, also after a broker restart (the offsets' tombstones).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { durableGroupOf, ErrorCode, Sluice, type TopicMessage } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { waitFor } from '../helpers/group-consumers.js';

let broker: BrokerProcess;
const clients: Sluice[] = [];

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['http.port=0', 'group.initial.rebalance.delay.ms=0'] });
});

afterAll(async () => {
  await broker?.destroy();
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

function client(): Sluice {
  const c = new Sluice({ brokers: broker.address, clientId: 'jms-topic-it' });
  clients.push(c);
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const values = (list: TopicMessage[]): string[] => list.map((m) => m.value?.toString() ?? '').sort();
const collector = (into: TopicMessage[]) => async (m: TopicMessage) => {
  into.push(m);
};

describe('JMS topics', () => {
  it('every subscriber gets each message; a non-durable subscriber misses what was published before', async () => {
    const sluice = client();
    await sluice.admin().createTopic({ topic: 'news', partitions: 3 });
    const news = sluice.topic('news');
    await news.publish('early');
    const a: TopicMessage[] = [];
    const b: TopicMessage[] = [];
    const sa = await news.subscribe(collector(a));
    const sb = await client().topic('news').subscribe(collector(b));
    for (let i = 0; i < 9; i++) await news.publish(`n${i}`, { key: `k${i}`, headers: { i: String(i) } });
    await waitFor('both subscribers', () => a.length >= 9 && b.length >= 9);
    await sleep(300);
    const expected = Array.from({ length: 9 }, (_, i) => `n${i}`).sort();
    expect(values(a)).toEqual(expected);
    expect(values(b)).toEqual(expected);
    const m = a.find((x) => x.value?.toString() === 'n4');
    expect(m?.key?.toString()).toBe('k4');
    expect(m?.headers.i?.toString()).toBe('4');
    expect(m?.topic).toBe('news');
    await sa.close();
    // closed: what is published now is gone for it
    await news.publish('later');
    await waitFor('the other subscriber', () => b.length >= 10);
    await sleep(200);
    expect(a.length).toBe(9);
    await sb.close();
  });

  it('a non-durable subscriber misses what was published while away; a durable one gets it after reconnecting', async () => {
    const sluice = client();
    const alerts = sluice.topic('alerts');
    const first: TopicMessage[] = [];
    const live: TopicMessage[] = [];
    const durable1 = await alerts.subscribe(collector(first), { durable: 'pager' });
    const nonDurable1 = await alerts.subscribe(collector(live));
    await alerts.publish('a1');
    await waitFor('a1 at both', () => first.length >= 1 && live.length >= 1);
    await durable1.close();
    await nonDurable1.close();

    await alerts.publish('a2');
    await alerts.publish('a3');

    const back: TopicMessage[] = [];
    const liveAgain: TopicMessage[] = [];
    const durable2 = await client().topic('alerts').subscribe(collector(back), { durable: 'pager' });
    const nonDurable2 = await alerts.subscribe(collector(liveAgain));
    await alerts.publish('a4');
    await waitFor('a2..a4 at the durable subscriber', () => back.length >= 3, 30_000);
    await waitFor('a4 at the non-durable subscriber', () => liveAgain.length >= 1);
    await sleep(300);
    expect(values(first)).toEqual(['a1']);
    expect(values(back)).toEqual(['a2', 'a3', 'a4']);
    expect(values(liveAgain)).toEqual(['a4']);
    expect(durable2.durable).toBe('pager');
    expect(nonDurable2.durable).toBeNull();
    await durable2.close();
    await nonDurable2.close();
  });

  it('unsubscribe removes a durable subscription (not while subscribed); subscribing again starts fresh, also after a restart', async () => {
    const sluice = client();
    const admin = sluice.admin();
    const events = sluice.topic('events');
    const got: TopicMessage[] = [];
    const sub = await events.subscribe(collector(got), { durable: 'audit' });
    await events.publish('e1');
    await waitFor('e1', () => got.length >= 1);
    await expect(events.unsubscribe('audit')).rejects.toMatchObject({ code: ErrorCode.InvalidRequest });
    await sub.close();

    await events.publish('missed-after-close');
    await events.unsubscribe('audit');
    const group = durableGroupOf('events', 'audit');
    expect((await admin.listGroups()).map((g) => g.group)).not.toContain(group);
    await expect(events.unsubscribe('audit')).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });

    // another durable subscription keeps its committed offsets through the restart; this one stays gone
    const kept: TopicMessage[] = [];
    const keeper = await events.subscribe(collector(kept), { durable: 'keeper' });
    await events.publish('e2');
    await waitFor('e2 at the keeper', () => kept.length >= 1);
    await keeper.close();
    await broker.restart('SIGKILL');
    const groups = (await admin.listGroups()).map((g) => g.group);
    expect(groups).toContain(durableGroupOf('events', 'keeper'));
    expect(groups).not.toContain(group);

    await events.publish('missed-while-unsubscribed');
    const fresh: TopicMessage[] = [];
    const again = await events.subscribe(collector(fresh), { durable: 'audit' });
    await events.publish('e3');
    await waitFor('e3', () => fresh.length >= 1, 30_000);
    await sleep(300);
    expect(values(fresh)).toEqual(['e3']);
    await again.close();
  });

  it('admin.deleteGroup deletes an empty consumer group and its offsets', async () => {
    const sluice = client();
    const admin = sluice.admin();
    await admin.createTopic({ topic: 'plain', partitions: 1 });
    await admin.resetOffsets({ group: 'old-group', topic: 'plain', to: 'earliest' });
    expect((await admin.listGroups()).map((g) => g.group)).toContain('old-group');
    await admin.deleteGroup('old-group');
    expect((await admin.listGroups()).map((g) => g.group)).not.toContain('old-group');
    await expect(admin.deleteGroup('never-was')).rejects.toMatchObject({ code: ErrorCode.InvalidArgument });
  });
});
