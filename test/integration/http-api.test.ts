/** The admin HTTP API against a real broker process (ephemeral native and HTTP ports). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { waitFor } from '../helpers/group-consumers.js';

let broker: BrokerProcess;
let client: Sluice;
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const admin = { authorization: basic('admin', 'admin') };
const viewer = { authorization: basic('viewer', 'viewer') };

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${broker.httpPort}${path}`, init);
}

function json(body: unknown, headers: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['group.initial.rebalance.delay.ms=0', 'num.partitions=1'] });
  client = new Sluice({ brokers: broker.address });
}, 30_000);

afterAll(async () => {
  await client?.close();
  await broker?.destroy();
});

describe('admin HTTP API', () => {
  it('serves health and readiness anonymously', async () => {
    expect(broker.httpPort).toBeGreaterThan(0);
    expect(await (await call('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await call('/readyz');
    expect(ready.status).toBe(200);
  });

  it('refuses anonymous requests on every /api route and /metrics, and viewers on admin routes', async () => {
    const doc = (await (await call('/api/openapi.json', { headers: viewer })).json()) as {
      paths: Record<string, Record<string, { 'x-sluice-role': string }>>;
    };
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      const url = path.replace(/\{[^}]+\}/g, 'x');
      for (const [method, op] of Object.entries(methods)) {
        if (op['x-sluice-role'] === 'anonymous') continue;
        const anon = await call(url, { method: method.toUpperCase() });
        expect(anon.status, `${method} ${path}`).toBe(401);
        if (op['x-sluice-role'] === 'admin') {
          const res = await call(url, { method: method.toUpperCase(), headers: viewer });
          expect(res.status, `viewer ${method} ${path}`).toBe(403);
        }
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'get /metrics',
        'post /api/topics',
        'delete /api/topics/{name}',
        'get /api/messages',
        // the console's (issue 19): described in the OpenAPI document, refused to anonymous and (admin ones) viewers
        'get /api/messages/search',
        'post /api/messages',
        'post /api/topics/{name}/partitions',
        'get /api/log-dirs',
      ]),
    );
    expect((await call('/api/topics', { headers: { authorization: basic('viewer', 'wrong') } })).status).toBe(401);
  });

  it('creates a topic, shows its leaders, browses its records and a group lag', async () => {
    const created = await call('/api/topics', json({ name: 'web-t', partitions: 2 }, admin));
    expect(created.status).toBe(201);
    const topic = (await (await call('/api/topics/web-t', { headers: viewer })).json()) as {
      name: string;
      partitions: { partition: number; leader: number; isr: number[] }[];
    };
    expect(topic.name).toBe('web-t');
    expect(topic.partitions).toHaveLength(2);
    for (const p of topic.partitions) expect(p.leader).toBe(0);
    const list = (await (await call('/api/topics', { headers: viewer })).json()) as { name: string }[];
    expect(list.map((t) => t.name)).toContain('web-t');

    const producer = client.producer();
    await producer.send({
      topic: 'web-t',
      messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}`, partition: 0, headers: { h: 'x' } })),
    });
    const messages = (await (
      await call('/api/messages?topic=web-t&partition=0&offset=1&max=10', { headers: viewer })
    ).json()) as { offset: number; key: string; value: string; headers: Record<string, string> }[];
    expect(messages.map((m) => [m.offset, m.key, m.value])).toEqual([
      [1, 'k1', 'v1'],
      [2, 'k2', 'v2'],
    ]);
    expect(messages[0]?.headers).toEqual({ h: 'x' });

    const consumer = client.consumer({ groupId: 'web-g', autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['web-t'] });
    let got = 0;
    for (let i = 0; i < 20 && got < 1; i++) got += (await consumer.poll({ maxWaitMs: 200, maxRecords: 1 })).length;
    await consumer.commit();
    await consumer.close();
    const group = (await (await call('/api/groups/web-g', { headers: viewer })).json()) as {
      offsets: { partition: number; lag: number | null }[];
    };
    const p0 = group.offsets.find((o) => o.partition === 0);
    expect(p0?.lag).toBe(3 - got);
    const groups = (await (await call('/api/groups', { headers: viewer })).json()) as { group: string }[];
    expect(groups.map((g) => g.group)).toContain('web-g');

    // size on this broker's disk, records in through it (a rate once two calls are apart), and its start time
    await call('/api/topics', { headers: viewer });
    await new Promise((r) => setTimeout(r, 50));
    await producer.send({ topic: 'web-t', messages: [{ value: 'more', partition: 1 }] });
    const sized = (await (await call('/api/topics', { headers: viewer })).json()) as {
      name: string;
      sizeBytes: number;
      messagesInPerSec: number;
    }[];
    const web = sized.find((t) => t.name === 'web-t');
    expect(web?.sizeBytes).toBeGreaterThan(0);
    expect(web?.messagesInPerSec).toBeGreaterThan(0);
    // the log directory of the one broker: its file system's bytes and the replicas held there
    const logDirs = (await (await call('/api/log-dirs', { headers: viewer })).json()) as {
      dirs: { broker: number; totalBytes: number; usableBytes: number; replicas: number; sizeBytes: number }[];
      unreachable: unknown[];
    };
    expect(logDirs.unreachable).toEqual([]);
    expect(logDirs.dirs).toHaveLength(1);
    const dir = logDirs.dirs[0];
    expect(dir?.broker).toBe(0);
    expect(dir?.totalBytes).toBeGreaterThanOrEqual(dir?.usableBytes ?? Number.POSITIVE_INFINITY);
    expect(dir?.replicas).toBeGreaterThanOrEqual(2);
    expect(dir?.sizeBytes).toBeGreaterThanOrEqual(web?.sizeBytes ?? Number.POSITIVE_INFINITY);
    const cluster = (await (await call('/api/cluster', { headers: viewer })).json()) as {
      brokers: { id: number; upSince: string | null }[];
    };
    expect(Date.parse(cluster.brokers[0]?.upSince ?? '')).toBeLessThanOrEqual(Date.now());

    const reset = await call('/api/groups/web-g/reset-offsets', json({ topic: 'web-t', to: 'earliest' }, admin));
    expect(reset.status).toBe(200);

    const metrics = await (await call('/metrics', { headers: viewer })).text();
    expect(metrics).toMatch(/sluice_topic_records_in_total\{topic="web-t"\} 4/);
    expect(metrics).toMatch(/sluice_requests_total\{api="Produce"\}/);
    expect(metrics).toContain('sluice_under_replicated_partitions 0');
    // after the reset to earliest, web-g is 3 records behind on partition 0
    expect(metrics).toContain('sluice_group_lag{group="web-g",topic="web-t",partition="0"} 3');
    expect(metrics).toContain('sluice_process_resident_memory_bytes');

    expect((await call('/api/topics/web-t', { method: 'DELETE', headers: admin })).status).toBe(200);
  }, 30_000);

  it('answers bad input with 400 and a message', async () => {
    const noName = await call('/api/topics', json({ partitions: 0 }, admin));
    expect(noName.status).toBe(400);
    expect(((await noName.json()) as { message: string }).message).toMatch(/name/);
    const tooMany = await call('/api/messages?topic=x&max=501', { headers: viewer });
    expect(tooMany.status).toBe(400);
    const badTo = await call('/api/groups/g/reset-offsets', json({ topic: 't', to: 'sideways' }, admin));
    expect(badTo.status).toBe(400);
    expect((await call('/api/topics/nope-missing', { headers: viewer })).status).toBe(404);
  });

  it('console tools: produce a test message, search by substring (bounded, counted), add partitions, group totals', async () => {
    expect((await call('/api/topics', json({ name: 'web-s', partitions: 1 }, admin))).status).toBe(201);
    // produce as admin (a viewer is refused); key, value and headers come back from a search
    const body = { topic: 'web-s', key: 'order-7', value: '{"item":"Needle","n":7}', headers: { source: 'console' } };
    expect((await call('/api/messages', json(body, viewer))).status).toBe(403);
    const produced = await call('/api/messages', json(body, admin));
    expect(produced.status).toBe(201);
    expect(await produced.json()).toEqual({ topic: 'web-s', partition: 0, offset: 0 });
    const producer = client.producer();
    await producer.send({
      topic: 'web-s',
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `plain-${i}`, partition: 0 })),
    });
    await call('/api/messages', json({ ...body, key: 'order-8', value: 'another needle' }, admin));

    type Search = {
      scanned: number;
      nextOffset: number;
      reachedEnd: boolean;
      matches: { offset: number; key: string; value: string; headers: Record<string, string> }[];
    };
    const search = async (q: string): Promise<Search> => {
      const res = await call(`/api/messages/search?${q}`, { headers: viewer });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as Search;
    };
    const all = await search('topic=web-s&contains=NEEDLE');
    expect(all.matches.map((m) => [m.offset, m.key])).toEqual([
      [0, 'order-7'],
      [31, 'order-8'],
    ]);
    expect(all.matches[0]?.headers).toEqual({ source: 'console' });
    expect(all).toMatchObject({ scanned: 32, nextOffset: 32, reachedEnd: true });
    // the scan stops at scanMax and says where to go on
    const bounded = await search('topic=web-s&contains=needle&offset=1&scanMax=10');
    expect(bounded).toMatchObject({ scanned: 10, nextOffset: 11, reachedEnd: false, matches: [] });
    // by key only
    expect((await search('topic=web-s&contains=k1&in=key')).matches.map((m) => m.key)).toEqual([
      'k1',
      ...Array.from({ length: 10 }, (_, i) => `k${10 + i}`),
    ]);
    // a time jump past every record finds nothing
    const later = await search(`topic=web-s&contains=needle&timestamp=${Date.now() + 3_600_000}`);
    expect(later.matches).toEqual([]);

    // records in the topics list: the cluster's count between log start and high watermark
    const topics = (await (await call('/api/topics', { headers: viewer })).json()) as {
      name: string;
      records: number;
    }[];
    expect(topics.find((t) => t.name === 'web-s')?.records).toBe(32);

    // partitions only grow
    const grown = await call('/api/topics/web-s/partitions', json({ count: 3 }, admin));
    expect(grown.status).toBe(200);
    expect(((await grown.json()) as { partitions: unknown[] }).partitions).toHaveLength(3);
    const shrink = await call('/api/topics/web-s/partitions', json({ count: 2 }, admin));
    expect(shrink.status).toBe(400);
    expect(((await shrink.json()) as { message: string }).message).toMatch(/has 3 partitions/);

    // the groups list carries members and total lag
    const consumer = client.consumer({ groupId: 'web-sg', autoOffsetReset: 'earliest' });
    await consumer.subscribe({ topics: ['web-s'] });
    let got = 0;
    for (let i = 0; i < 40 && got < 2; i++) got += (await consumer.poll({ maxWaitMs: 200, maxRecords: 2 })).length;
    await consumer.commit();
    const groups = (await (await call('/api/groups', { headers: viewer })).json()) as {
      group: string;
      members: number | null;
      totalLag: number | null;
    }[];
    expect(groups.find((g) => g.group === 'web-sg')).toMatchObject({ members: 1, totalLag: 32 - got });
    await consumer.close();

    // bad input: a clear 400
    const bad = async (path: string, init: RequestInit = { headers: viewer }): Promise<string> => {
      const res = await call(path, init);
      expect(res.status, path).toBe(400);
      return ((await res.json()) as { message: string }).message;
    };
    expect(await bad('/api/messages/search?topic=web-s')).toMatch(/contains/);
    expect(await bad('/api/messages/search?topic=web-s&contains=x&scanMax=10001')).toMatch(/scanMax/);
    expect(await bad('/api/messages/search?topic=web-s&contains=x&offset=1&timestamp=1')).toMatch(/not both/);
    expect(await bad('/api/messages', json({ topic: 'web-s', value: 'x', partition: 9 }, admin))).toMatch(
      /no partition 9/,
    );
    expect(await bad('/api/messages', json({ topic: 'web-s' }, admin))).toMatch(/value/);
    expect(await bad('/api/topics/web-s/partitions', json({ count: 0 }, admin))).toMatch(/count/);
    expect((await call('/api/messages', json({ topic: 'web-missing', value: 'x' }, admin))).status).toBe(404);
    expect((await call('/api/topics/web-s', { method: 'DELETE', headers: admin })).status).toBe(200);
  }, 60_000);

  it('queues and DLQ lists answer', async () => {
    expect((await call('/api/queues', { headers: viewer })).status).toBe(200);
    expect((await call('/api/dlq', { headers: viewer })).status).toBe(200);
  });

  it('slows failed logins down but never refuses the right password (behind a proxy every admin shares one address)', async () => {
    const wrong = 'wrong-pass-7f3a';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await call('/api/login', json({ username: 'admin', password: wrong }, {}))).status);
    }
    expect(statuses).toEqual(Array(6).fill(401));
    // the same address (all clients of a reverse proxy look like this): the right password gets in ...
    expect((await call('/api/login', json({ username: 'admin', password: 'admin' }, {}))).status).toBe(200);
    // ... and Basic auth keeps working on every route, Prometheus scrapes included
    expect((await call('/metrics', { headers: admin })).status).toBe(200);
    expect((await call('/metrics', { headers: viewer })).status).toBe(200);
    expect((await call('/api/topics', { headers: { authorization: basic('admin', wrong) } })).status).toBe(401);
    expect((await call('/api/topics', { headers: admin })).status).toBe(200);

    // every failure is logged with the user and the address, never the password; the login after them is noted
    type Line = { msg?: string; username?: string; remote?: string; via?: string; failedAttempts?: number };
    const lines = (): Line[] =>
      broker.recentOutput.split('\n').flatMap((l) => {
        try {
          return [JSON.parse(l) as Line];
        } catch {
          return []; // the kept output may start inside a line
        }
      });
    const failedConsole = (): Line[] =>
      lines().filter((l) => l.msg === 'failed login' && l.username === 'admin' && l.via === 'console');
    await waitFor('failed-login log lines', () => failedConsole().length >= 6, 10_000);
    expect(failedConsole()[0]?.remote).toMatch(/127\.0\.0\.1$/);
    const noted = (): Line | undefined =>
      lines().find((l) => l.msg === 'login after failed attempts' && l.username === 'admin');
    await waitFor('login-after-failures line', () => noted() !== undefined, 10_000);
    expect(noted()?.failedAttempts).toBeGreaterThanOrEqual(6);
    expect(broker.recentOutput).not.toContain(wrong);
  }, 60_000);
});
