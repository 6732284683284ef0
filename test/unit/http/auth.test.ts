import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import type { Coordinator } from '../../../src/coordination/coordinator.js';
import { type HttpServer, startHttpServer } from '../../../src/http/http-server.js';
import { SessionStore } from '../../../src/http/sessions.js';
import { parseTrustedProxies } from '../../../src/http/trusted-proxies.js';
import { hashPassword, parseUsers, type UserRecord, verifyPassword } from '../../../src/http/users.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';
import { waitFor } from '../../helpers/group-consumers.js';

async function userOf(username: string, password: string, role: 'admin' | 'viewer'): Promise<UserRecord> {
  const line = `${username}=${await hashPassword(password, role)}`;
  return parseUsers(line).get(username) as UserRecord;
}

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('s3cret', 'admin');
    expect(stored).toMatch(/^admin:[0-9a-f]{32}:[0-9a-f]{128}$/);
    const user = parseUsers(`alice=${stored}`).get('alice') as UserRecord;
    expect(user.role).toBe('admin');
    expect(await verifyPassword(user, 's3cret')).toBe(true);
    expect(await verifyPassword(user, 's3cret ')).toBe(false);
    expect(await hashPassword('s3cret', 'admin')).not.toBe(stored);
  });

  it('skips malformed lines and comments', () => {
    const warnings: string[] = [];
    const users = parseUsers('# comment\nbob=root:aa:bb\n\nnoequals\n', (m) => warnings.push(m));
    expect(users.size).toBe(0);
    expect(warnings).toHaveLength(2);
  });

  it('the shipped users file holds admin and viewer', async () => {
    const { readFileSync } = await import('node:fs');
    const users = parseUsers(readFileSync('config/users.properties', 'utf8'));
    expect(users.get('admin')?.role).toBe('admin');
    expect(users.get('viewer')?.role).toBe('viewer');
    expect(await verifyPassword(users.get('viewer') as UserRecord, 'viewer')).toBe(true);
  });
});

describe('session store', () => {
  it('expires sessions and stays bounded', () => {
    let now = 1000;
    const store = new SessionStore(100, 3, () => now);
    const a = store.create('a', 'admin');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(store.get(a)?.username).toBe('a');
    store.create('b', 'viewer');
    store.create('c', 'viewer');
    store.create('d', 'viewer');
    expect(store.size).toBe(3);
    expect(store.get(a)).toBeUndefined();
    now += 101;
    expect(store.size).toBe(3);
    const e = store.create('e', 'viewer');
    expect(store.size).toBe(1);
    store.delete(e);
    expect(store.get(e)).toBeUndefined();
  });
});

describe('HTTP auth (fastify inject)', () => {
  let server: HttpServer;
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  beforeAll(async () => {
    const users = new Map([
      ['admin', await userOf('admin', 'pw-admin', 'admin')],
      ['viewer', await userOf('viewer', 'pw-viewer', 'viewer')],
    ]);
    const coordinator = {
      brokers: () => [{ nodeId: 0, host: '127.0.0.1', port: 1, kafkaPort: 2 }],
      controllerId: () => 0,
    } as unknown as Coordinator;
    server = await startHttpServer({
      config: parseBrokerConfig(new Map([['http.port', '0']])),
      logger: silentLogger,
      brokerAddress: () => ({ host: '127.0.0.1', port: 1 }),
      coordinator,
      mode: 'standalone',
      ready: () => Promise.reject(new Error('no broker in this test')),
      users,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('health is anonymous, the API is not', async () => {
    expect((await server.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const anon = await server.app.inject({ url: '/api/cluster' });
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toContain('Basic');
    const ok = await server.app.inject({
      url: '/api/cluster',
      headers: { authorization: basic('viewer', 'pw-viewer') },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      mode: 'standalone',
      controllerId: 0,
      brokers: [{ id: 0, host: '127.0.0.1', port: 1, kafkaPort: 2, controller: true, upSince: null }],
    });
  });

  it('logs in with a session cookie, enforces roles and logs out', async () => {
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'viewer', password: 'pw-viewer' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toEqual({ username: 'viewer', role: 'viewer' });
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^sluice_session=[0-9a-f]{64}; .*HttpOnly; SameSite=Strict/);
    const token = cookie.split(';')[0] as string;
    const me = await server.app.inject({ url: '/api/me', headers: { cookie: token } });
    expect(me.json()).toEqual({ username: 'viewer', role: 'viewer' });
    const forbidden = await server.app.inject({
      method: 'POST',
      url: '/api/topics',
      headers: { cookie: token },
      payload: { name: 't' },
    });
    expect(forbidden.statusCode).toBe(403);
    await server.app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: token } });
    expect((await server.app.inject({ url: '/api/me', headers: { cookie: token } })).statusCode).toBe(401);
  });

  it('rejects bad login bodies with 400 and the OpenAPI document lists routes', async () => {
    const bad = await server.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/password/);
    const doc = (
      await server.app.inject({ url: '/api/openapi.json', headers: { authorization: basic('admin', 'pw-admin') } })
    ).json() as { openapi: string; paths: Record<string, object> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/topics', '/api/topics/{name}', '/api/messages', '/metrics', '/readyz']),
    );
  });
});

describe('failed logins never lock out the right password (fastify inject)', () => {
  let server: HttpServer;
  const log = capturingLogger();
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const login = (username: string, password: string, remoteAddress: string) =>
    server.app.inject({ method: 'POST', url: '/api/login', payload: { username, password }, remoteAddress });
  const metrics = (authorization: string, remoteAddress: string) =>
    server.app.inject({ url: '/metrics', headers: { authorization }, remoteAddress });

  beforeAll(async () => {
    const users = new Map([
      ['admin', await userOf('admin', 'pw-admin', 'admin')],
      ['viewer', await userOf('viewer', 'pw-viewer', 'viewer')],
    ]);
    server = await startHttpServer({
      config: parseBrokerConfig(new Map([['http.port', '0']])),
      logger: log.logger,
      brokerAddress: () => ({ host: '127.0.0.1', port: 1 }),
      coordinator: { brokers: () => [], controllerId: () => 0 } as unknown as Coordinator,
      mode: 'standalone',
      ready: () => Promise.reject(new Error('no broker in this test')),
      users,
      // short delays keep the test quick; the policy itself is tested in login-throttle.test.ts
      loginThrottle: { delayMsMin: 5, delayMsMax: 40 },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('after many failed logins from an address, the right password from it logs in and Basic auth on /metrics works', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await login('admin', `wrong-${i}`, '203.0.113.5')).statusCode);
    expect(statuses).toEqual(Array(10).fill(401));
    expect((await login('admin', 'pw-admin', '203.0.113.5')).statusCode).toBe(200);
    expect((await metrics(basic('admin', 'pw-admin'), '203.0.113.5')).statusCode).toBe(200);

    // the same through Basic auth alone (a Prometheus scrape with a wrong, then the right password)
    for (let i = 0; i < 8; i++) {
      expect((await metrics(basic('viewer', `scrape-wrong-${i}`), '203.0.113.5')).statusCode).toBe(401);
    }
    expect((await metrics(basic('viewer', 'pw-viewer'), '203.0.113.5')).statusCode).toBe(200);
    expect((await metrics(basic('admin', 'pw-admin'), '203.0.113.5')).statusCode).toBe(200);

    const failed = log.lines.filter((l) => l.msg === 'failed login');
    expect(failed.filter((l) => l.username === 'admin' && l.via === 'console')).toHaveLength(10);
    expect(failed.filter((l) => l.username === 'viewer' && l.via === 'basic')).toHaveLength(8);
    expect(failed.every((l) => l.remote === '203.0.113.5' && l.level === 40)).toBe(true);
    const after = log.lines.filter((l) => l.msg === 'login after failed attempts');
    expect(after.map((l) => [l.username, l.failedAttempts])).toEqual([
      ['admin', 10],
      ['viewer', 8],
    ]);
    expect(log.text()).not.toContain('wrong-');
  });

  it('a flood of parallel wrong logins for one user does not lock out other users or other addresses', async () => {
    let wrongAnswers = 0;
    const flood = Array.from({ length: 30 }, (_, i) =>
      login('admin', `flood-${i}`, '198.51.100.1').then((r) => {
        if (r.statusCode === 401) wrongAnswers++;
        return r;
      }),
    );
    await waitFor('five failures from the flooding address', () => wrongAnswers >= 5, 30_000);
    // another user from the flooding address: waits at most for that address's delay, then gets in
    const viewerMe = await server.app.inject({
      url: '/api/me',
      headers: { authorization: basic('viewer', 'pw-viewer') },
      remoteAddress: '198.51.100.1',
    });
    expect(viewerMe.statusCode).toBe(200);
    expect(viewerMe.json()).toEqual({ username: 'viewer', role: 'viewer' });
    // the attacked user from another address
    expect((await login('admin', 'pw-admin', '192.0.2.44')).statusCode).toBe(200);
    const floodStatuses = (await Promise.all(flood)).map((r) => r.statusCode);
    expect(floodStatuses.every((s) => s === 401 || s === 429)).toBe(true);
    const refused = (await Promise.all(flood)).find((r) => r.statusCode === 429);
    if (refused) expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('http.trusted.proxies', () => {
  it('accepts addresses, CIDR blocks and proxy-addr names, refuses anything else with a config error', () => {
    expect(parseTrustedProxies('')).toBe(false);
    expect(parseTrustedProxies(' 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8,loopback')).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      'loopback',
    ]);
    for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '1.2.3', '10.0.0.0/x', '*']) {
      expect(() => parseTrustedProxies(bad), bad).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidConfig, message: expect.stringContaining(bad) }),
      );
    }
  });

  it('takes the client address from X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const log = capturingLogger();
    const server = await startHttpServer({
      config: parseBrokerConfig(
        new Map([
          ['http.port', '0'],
          ['http.trusted.proxies', '127.0.0.1'],
        ]),
      ),
      logger: log.logger,
      brokerAddress: () => ({ host: '127.0.0.1', port: 1 }),
      coordinator: { brokers: () => [], controllerId: () => 0 } as unknown as Coordinator,
      mode: 'standalone',
      ready: () => Promise.reject(new Error('no broker in this test')),
      users: new Map([['admin', await userOf('admin', 'pw-admin', 'admin')]]),
      loginThrottle: { delayMsMin: 1, delayMsMax: 2 },
    });
    try {
      const attempt = (remoteAddress: string) =>
        server.app.inject({
          method: 'POST',
          url: '/api/login',
          payload: { username: 'admin', password: 'wrong' },
          headers: { 'x-forwarded-for': '203.0.113.9' },
          remoteAddress,
        });
      expect((await attempt('127.0.0.1')).statusCode).toBe(401);
      expect((await attempt('198.51.100.3')).statusCode).toBe(401);
      const remotes = log.lines.filter((l) => l.msg === 'failed login').map((l) => l.remote);
      expect(remotes).toEqual(['203.0.113.9', '198.51.100.3']);
    } finally {
      await server.close();
    }
  });
});
