/**
 * The admin console and HTTP API on the broker's own user store (issue 17):
 * one standalone broker with the authorizer on, whose former console users
 * file (the shipped admin/admin and viewer/viewer plus users `dave` and
 * `frank` added with `npm run user:add`) is imported at its first start — pending users,
 * roles as ACLs on the cluster — and never read again.
 *
 * The CLI acts over PLAINTEXT as User:ANONYMOUS, made a super user here so it
 * can manage users and ACLs; console users are checked only through the store.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { type CliResult, CliRunner } from '../helpers/cli-runner.js';
import { tempDir } from '../helpers/temp-dir.js';

let broker: BrokerProcess;
let usersFile: string;
let cleanup: () => void = () => {};
const cli = new CliRunner();

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const base = () => `http://127.0.0.1:${broker.httpPort}`;

function login(username: string, password: string): Promise<Response> {
  return fetch(`${base()}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
}

/** A read (viewer) and a change (admin) with the given headers: their two statuses. */
async function rights(headers: Record<string, string>): Promise<[number, number]> {
  const read = await fetch(`${base()}/api/topics`, { headers });
  const change = await fetch(`${base()}/api/topics`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `t-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, partitions: 1 }),
  });
  return [read.status, change.status];
}

async function sluice(args: string[], input?: string): Promise<CliResult> {
  const r = await cli.run(args, { brokers: broker.address, ...(input === undefined ? {} : { input }) });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const consoleAcl = (user: string, operation: 'Describe' | 'Alter') => [
  '--allow-principal',
  `User:${user}`,
  '--operation',
  operation,
  '--cluster',
];

beforeAll(async () => {
  const tmp = tempDir('sluice-console-users-');
  cleanup = tmp.cleanup;
  usersFile = path.join(tmp.dir, 'users.properties');
  fs.copyFileSync(path.join(repoRoot, 'config/users.properties'), usersFile);
  // a user an operator added to the file the old way, with a password the import cannot know
  execFileSync(
    process.execPath,
    ['scripts/add-user.mjs', 'dave', 'viewer', '--password', 'dave-pw', '--file', usersFile],
    {
      cwd: repoRoot,
    },
  );
  execFileSync(
    process.execPath,
    ['scripts/add-user.mjs', 'frank', 'admin', '--password', 'frank-pw', '--file', usersFile],
    {
      cwd: repoRoot,
    },
  );
  broker = await BrokerProcess.start({
    overrides: [
      `http.users.file=${usersFile}`,
      'authorizer.enabled=true',
      'super.users=User:ANONYMOUS',
      'default.replication.factor=1',
    ],
  });
}, 60_000);

afterAll(async () => {
  await broker?.destroy();
  cleanup();
});

describe('the former users file, imported once', () => {
  it('warns at start, in one line, while a shipped password is in use', async () => {
    // the check runs beside the start (a few password hashes): wait for its line
    const warning = /shipped console password still in use \(admin\/admin, viewer\/viewer\)/;
    for (let i = 0; i < 100 && !warning.test(broker.recentOutput); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = broker.recentOutput.split('\n').filter((l) => l.includes('shipped console password'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(warning);
    expect(lines[0]).toContain('sluice user add admin --mechanism SCRAM-SHA-512; sluice user add viewer');
  });

  it("keeps each user's password and role: admin may change, viewer and dave may only read", async () => {
    expect(await rights(basic('admin', 'admin'))).toEqual([200, 201]);
    expect(await rights(basic('viewer', 'viewer'))).toEqual([200, 403]);
    const dave = await login('dave', 'dave-pw');
    expect(dave.status).toBe(200);
    expect(await dave.json()).toEqual({ username: 'dave', role: 'viewer' });
    expect((await login('dave', 'wrong')).status).toBe(401);
  });

  it('a first login moves the user into the SCRAM store, where the CLI lists it and SASL could use it', async () => {
    const listed = (await sluice(['user', 'list', '--json'])).stdout;
    const users = (JSON.parse(listed) as { user: string; credentials: { mechanism: string }[] }[]).map((u) => [
      u.user,
      u.credentials.map((c) => c.mechanism).sort(),
    ]);
    expect(users).toEqual(
      expect.arrayContaining([
        ['admin', ['SCRAM-SHA-512']],
        ['dave', ['SCRAM-SHA-512']],
      ]),
    );
    // the roles were imported as ACLs on the cluster
    const acls = JSON.parse((await sluice(['acl', 'list', '--cluster', '--json'])).stdout) as Record<string, string>[];
    const granted = (user: string, operation: string) =>
      acls.some(
        (a) =>
          a.principal === `User:${user}` &&
          a.operation?.toLowerCase() === operation &&
          a.permission?.toLowerCase() === 'allow',
      );
    expect([granted('admin', 'alter'), granted('viewer', 'describe'), granted('dave', 'describe')]).toEqual([
      true,
      true,
      true,
    ]);
    // frank never logged in: still pending, not in the SCRAM store
    expect(users.map(([u]) => u)).not.toContain('frank');
  });

  it('a changed password counts at once: the old one no longer logs in', async () => {
    // (the console, like SASL PLAIN, checks a user's SCRAM-SHA-512 credential, else its SCRAM-SHA-256 one)
    await sluice(['user', 'add', 'viewer', '--mechanism', 'SCRAM-SHA-512'], 'viewer-new\n');
    expect((await login('viewer', 'viewer')).status).toBe(401);
    expect((await login('viewer', 'viewer-new')).status).toBe(200);
  });
});

describe('console rights are ACLs on the cluster', () => {
  it('refuses a user without rights; Describe makes a viewer, Alter an admin; a revoked right ends the open session', async () => {
    await sluice(['user', 'add', 'carol', '--mechanism', 'SCRAM-SHA-512'], 'carol-pw\n');
    const refused = await login('carol', 'carol-pw');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/no rights on the cluster/);

    await sluice(['acl', 'add', ...consoleAcl('carol', 'Describe')]);
    const session = await login('carol', 'carol-pw');
    expect(await session.json()).toEqual({ username: 'carol', role: 'viewer' });
    const cookie = { cookie: String(session.headers.get('set-cookie')).split(';')[0] as string };
    expect(await rights(cookie)).toEqual([200, 403]);

    await sluice(['acl', 'add', ...consoleAcl('carol', 'Alter')]);
    expect(await rights(cookie)).toEqual([200, 201]);

    await sluice(['acl', 'remove', ...consoleAcl('carol', 'Alter')]);
    await sluice(['acl', 'remove', ...consoleAcl('carol', 'Describe')]);
    expect(await rights(cookie)).toEqual([403, 403]);
  });
});

describe('after a restart', () => {
  it('the file is not read again, and a user deleted with the CLI stays deleted', async () => {
    // erin appears in the file only after its import; viewer, moved already, is deleted through the store
    execFileSync(
      process.execPath,
      ['scripts/add-user.mjs', 'erin', 'admin', '--password', 'erin-pw', '--file', usersFile],
      {
        cwd: repoRoot,
      },
    );
    await sluice(['user', 'delete', 'viewer', '--mechanism', 'SCRAM-SHA-512']);
    // frank is still pending from the file: deleting a credential of his ends him there
    await sluice(['user', 'delete', 'frank', '--mechanism', 'SCRAM-SHA-512']);
    await broker.restart();
    expect(broker.recentOutput).toMatch(/console users file changed after it was imported/);
    expect((await login('erin', 'erin-pw')).status).toBe(401);
    expect((await login('viewer', 'viewer-new')).status).toBe(401);
    expect((await login('viewer', 'viewer')).status).toBe(401);
    expect((await login('frank', 'frank-pw')).status).toBe(401);
    // admin's password, moved into the store before the restart, still logs in
    expect((await login('admin', 'admin')).status).toBe(200);
  });
});
