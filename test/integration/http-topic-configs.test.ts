/**
 * GET and PUT /api/topics/{name}/configs on a real broker process: every
 * topic key with its value and source; PUT sets (a value) and removes (null)
 * overrides, keeps the rest, refuses unknown keys (400, naming the known
 * ones), an unknown topic (404) and viewers (403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess } from '../helpers/broker-process.js';

let broker: BrokerProcess;
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const admin = { authorization: basic('admin', 'admin') };
const viewer = { authorization: basic('viewer', 'viewer') };

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${broker.httpPort}${path}`, init);
}
const put = (body: unknown, headers: Record<string, string> = admin): RequestInit => ({
  method: 'PUT',
  headers: { ...headers, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

interface ConfigsBody {
  name: string;
  configs: { name: string; value: string | null; source: string; sensitive: boolean }[];
}
const byName = (body: ConfigsBody) => Object.fromEntries(body.configs.map((c) => [c.name, [c.value, c.source]]));

beforeAll(async () => {
  broker = await BrokerProcess.start();
}, 30_000);

afterAll(async () => {
  await broker?.destroy();
});

describe('admin HTTP API: topic configs', () => {
  it('reads and changes a topic configs', async () => {
    const created = await call('/api/topics', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web-cfg', configs: { 'retention.ms': '3600000' } }),
    });
    expect(created.status).toBe(201);
    const got = await call('/api/topics/web-cfg/configs', { headers: viewer });
    expect(got.status).toBe(200);
    const before = byName((await got.json()) as ConfigsBody);
    expect(before['retention.ms']).toEqual(['3600000', 'DYNAMIC_TOPIC_CONFIG']);
    expect(before['cleanup.policy']).toEqual(['delete', 'DEFAULT_CONFIG']);

    const changed = await call(
      '/api/topics/web-cfg/configs',
      put({ 'retention.ms': null, 'max.message.bytes': '5000' }),
    );
    expect(changed.status).toBe(200);
    const after = byName((await changed.json()) as ConfigsBody);
    expect(after['max.message.bytes']).toEqual(['5000', 'DYNAMIC_TOPIC_CONFIG']);
    expect(after['retention.ms']?.[1]).toBe('STATIC_BROKER_CONFIG');
    expect(
      byName((await (await call('/api/topics/web-cfg/configs', { headers: viewer })).json()) as ConfigsBody),
    ).toEqual(after);
  });

  it('refuses unknown keys, bad values, unknown topics, empty bodies and viewers, changing nothing', async () => {
    await call('/api/topics', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web-cfg-bad' }),
    });
    const unknown = await call('/api/topics/web-cfg-bad/configs', put({ 'retention.msec': '1' }));
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('unknown topic config retention.msec (known: ');
    expect((await call('/api/topics/web-cfg-bad/configs', put({ 'cleanup.policy': 'shred' }))).status).toBe(400);
    expect((await call('/api/topics/web-cfg-bad/configs', put({}))).status).toBe(400);
    expect((await call('/api/topics/no-such/configs', put({ 'retention.ms': '1' }))).status).toBe(404);
    expect((await call('/api/topics/no-such/configs', { headers: viewer })).status).toBe(404);
    expect((await call('/api/topics/web-cfg-bad/configs', put({ 'retention.ms': '1' }, viewer))).status).toBe(403);
    const unchanged = (await (
      await call('/api/topics/web-cfg-bad/configs', { headers: viewer })
    ).json()) as ConfigsBody;
    expect(unchanged.configs.every((c) => c.source !== 'DYNAMIC_TOPIC_CONFIG')).toBe(true);
  });
});
