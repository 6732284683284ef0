/**
 * The web console in a real browser (Debian's Chromium driven by
 * playwright-core) against a real broker process: log in as admin, see a
 * topic created through the CLI with its partitions and leaders, see a
 * group's lag and see it fall after consuming, redrive a dead letter with
 * the button; anonymous data calls from the page get 401. Then the pages of
 * issue 19 as admin (topics with records and size, create / alter / delete a
 * topic, produce a message and find it by a value substring, the group's lag
 * chart, the broker page) and as viewer (no admin controls, the API refuses).
 * Screenshots: test/.results/console*.png (1280x800 and a 390x844 phone).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sluice } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import type { QueueFetchResponse, QueueSendResponse } from '../../src/protocol/native/queue-messages.js';
import { BrokerProcess, repoRoot } from '../helpers/broker-process.js';
import { CliRunner } from '../helpers/cli-runner.js';
import { RawClient } from '../helpers/raw-client.js';

const chromiumPath = '/usr/bin/chromium';
const resultsDir = path.join(repoRoot, 'test/.results');
const uiTimeoutMs = 15_000;

let broker: BrokerProcess;
let httpPort = 0;
let browser: Browser | undefined;
let raw: RawClient | undefined;
const cli = new CliRunner();

/** The HTTP port: `broker.httpPort` when the helper has it, else the broker's "http listening" log line. */
async function findHttpPort(b: BrokerProcess): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const known = (b as unknown as { httpPort?: unknown }).httpPort;
    if (typeof known === 'number' && known > 0) return known;
    for (const line of b.recentOutput.split('\n')) {
      if (!line.includes('http listening')) continue;
      try {
        const entry = JSON.parse(line) as { port?: unknown; address?: unknown };
        if (typeof entry.port === 'number') return entry.port;
        const m = /:(\d+)\/?$/.exec(String(entry.address ?? ''));
        if (m) return Number(m[1]);
      } catch {
        // not JSON
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "http listening" line from the broker\n${b.recentOutput}`);
}

async function run(args: string[], input?: string): Promise<string> {
  const r = await cli.run(args, { brokers: broker.address, ...(input === undefined ? {} : { input }) });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** One message dead-lettered on `queue` (queue.max.redeliveries=0: the first release dead-letters it). */
async function deadLetter(c: RawClient, queue: string): Promise<void> {
  const sent = await c.call<QueueSendResponse>(ApiKey.QueueSend, {
    queue,
    messages: [{ value: Buffer.from('poison') }],
  });
  expect(sent.errorCode).toBe(0);
  for (let i = 0; i < 10; i++) {
    const got = await c.call<QueueFetchResponse>(ApiKey.QueueFetch, {
      queue,
      consumerId: 'poisoned',
      prefetch: 1,
      maxMessages: 1,
      maxWaitMs: 200,
    });
    const m = got.messages[0];
    if (!m) {
      if (i > 0) return;
      continue;
    }
    await c.call(ApiKey.QueueAck, { queue, consumerId: 'poisoned', acks: [{ offset: m.offset, type: 'release' }] });
  }
  throw new Error(`the message on ${queue} was never dead-lettered`);
}

beforeAll(async () => {
  execFileSync('bash', [path.join(repoRoot, 'scripts/chromium.sh'), 'ensure'], { stdio: 'inherit', timeout: 300_000 });
  broker = await BrokerProcess.start({
    overrides: [
      'http.port=0',
      'queue.max.redeliveries=0',
      'num.partitions=2',
      'default.replication.factor=1',
      'group.initial.rebalance.delay.ms=0',
    ],
  });
  httpPort = await findHttpPort(broker);

  await run(['topic', 'create', 'console-orders', '--partitions', '2', '--replication-factor', '1']);
  const lines = Array.from({ length: 10 }, (_, i) => `order-${i}`).join('\n');
  await run(['produce', 'console-orders'], `${lines}\n`);
  // the group reads 4 of 10 and commits them: lag 6
  await run(['consume', 'console-orders', '--group', 'console-group', '--from-beginning', '--max-messages', '4']);

  raw = await RawClient.connect(broker.port);
  await deadLetter(raw, 'console-jobs');

  // launch() gives Chromium a fresh, empty user-data-dir of its own (removed at close)
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 360_000);

afterAll(async () => {
  cli.killAll();
  raw?.socket.destroy();
  await browser?.close().catch(() => undefined);
  await broker?.destroy();
}, 30_000);

async function newPage(viewport = { width: 1200, height: 900 }): Promise<Page> {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(uiTimeoutMs);
  return page;
}

const base = (): string => `http://127.0.0.1:${httpPort}`;

/** Page-side code is passed as strings: the test tsconfig has no DOM types. */
const pageReady = "document.getElementById('page')?.dataset.ready === 'true'";

async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.waitForFunction(`location.hash === ${JSON.stringify(hash)} && ${pageReady}`, null, {
    timeout: uiTimeoutMs,
  });
}

describe('web console in Chromium', () => {
  it('refuses anonymous data calls from the page (401) and shows the login form', async () => {
    const page = await newPage();
    try {
      await page.goto(`${base()}/`);
      await page.getByTestId('login-form').waitFor({ state: 'visible' });
      const statuses = await page.evaluate(async () => {
        const paths = ['/api/topics', '/api/cluster', '/api/groups', '/api/queues', '/api/dlq'];
        return Promise.all(
          paths.map(
            async (p) =>
              (await fetch(p, { credentials: 'omit', headers: { 'x-requested-with': 'XMLHttpRequest' } })).status,
          ),
        );
      });
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
    } finally {
      await page.context().close();
    }
  });

  it('logs in as admin, shows topic, lag falling after consuming, and redrives a dead letter', async () => {
    const page = await newPage();
    try {
      await page.goto(`${base()}/`);
      await page.locator('#login-username').fill('admin');
      await page.locator('#login-password').fill('wrong');
      await page.locator('#login-submit').click();
      await expect.poll(() => page.getByTestId('login-error').textContent(), { timeout: uiTimeoutMs }).not.toBe('');
      await page.locator('#login-password').fill('admin');
      await page.locator('#login-submit').click();
      await page.getByTestId('brokers-table').waitFor();
      expect(await page.getByTestId('login-form').isVisible()).toBe(false);
      expect(await page.getByTestId('user').textContent()).toContain('admin');
      expect(await page.getByTestId('broker-row').count()).toBe(1);

      // topics: the CLI's topic with 2 partitions, each led by broker 0
      await go(page, '#/topics');
      const row = page.locator('[data-testid="topic-row"][data-topic="console-orders"]');
      await row.waitFor();
      expect(await row.locator('td').nth(1).textContent()).toBe('2');
      await row.locator('a').click();
      await page.getByTestId('partitions-table').waitFor();
      const partitions = page.getByTestId('partition-row');
      await expect.poll(() => partitions.count(), { timeout: uiTimeoutMs }).toBe(2);
      expect(await page.getByTestId('partition-leader').allTextContents()).toEqual(['0', '0']);

      // the message browser reads records back
      await go(page, '#/messages?topic=console-orders&partition=0&offset=0&max=50');
      const rowsP0 = await page.getByTestId('message-row').count();
      await go(page, '#/messages?topic=console-orders&partition=1&offset=0&max=50');
      const rowsP1 = await page.getByTestId('message-row').count();
      expect(rowsP0 + rowsP1).toBe(10);

      // groups: lag 6, then 0 after the group reads the rest
      await go(page, '#/groups/console-group');
      expect(Number(await page.getByTestId('total-lag').textContent())).toBe(6);
      expect(await page.getByTestId('lag-row').count()).toBe(2);
      await run([
        'consume',
        'console-orders',
        '--group',
        'console-group',
        '--max-messages',
        '6',
        '--timeout-ms',
        '10000',
      ]);
      await expect
        .poll(
          async () => {
            await page.locator('#group-refresh').click();
            await page.waitForFunction(pageReady);
            return Number(await page.getByTestId('total-lag').textContent());
          },
          { timeout: uiTimeoutMs },
        )
        .toBe(0);

      // queues: the dead letter goes back with the Redrive button
      await go(page, '#/queues');
      const dlq = page.locator('[data-testid="dlq-row"][data-queue="console-jobs"]');
      await dlq.waitFor();
      expect(await dlq.getAttribute('data-depth')).toBe('1');
      await dlq.getByTestId('redrive-button').click();
      await expect
        .poll(() => page.getByTestId('redrive-result').textContent(), { timeout: uiTimeoutMs })
        .toContain('Moved 1');
      const queueRow = page.locator('[data-testid="queue-row"][data-queue="console-jobs"]');
      expect(await queueRow.getAttribute('data-depth')).toBe('1');
      expect(await page.locator('[data-testid="dlq-row"][data-queue="console-jobs"]').getAttribute('data-depth')).toBe(
        '0',
      );

      // overview: the live chart fills from /metrics
      await go(page, '#/overview');
      await page.waitForFunction(
        "Number(document.getElementById('throughput-chart')?.dataset.samples ?? 0) >= 1",
        null,
        {
          timeout: uiTimeoutMs,
        },
      );
      // the 10 records produced through the CLI are counted in /metrics
      expect(Number(await page.getByTestId('throughput-chart').getAttribute('data-total-in'))).toBeGreaterThanOrEqual(
        10,
      );
      if (!existsSync(resultsDir)) mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, 'console.png'), fullPage: true });
    } finally {
      await page.context().close();
    }
  });

  async function logIn(page: Page, user: string): Promise<void> {
    await page.goto(`${base()}/`);
    await page.locator('#login-username').fill(user);
    await page.locator('#login-password').fill(user);
    await page.locator('#login-submit').click();
    await page.getByTestId('brokers-table').waitFor();
    await page.waitForFunction(pageReady);
  }
  const shot = async (page: Page, name: string): Promise<void> => {
    if (!existsSync(resultsDir)) mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: path.join(resultsDir, `console-${name}.png`), fullPage: true });
  };

  it('as admin: topics with records and size, create/alter/delete a topic, produce and find by value, group lag chart, broker page', async () => {
    const page = await newPage({ width: 1280, height: 800 });
    try {
      await logIn(page, 'admin');
      // the favicon is an inline SVG
      expect(await page.locator('link[rel="icon"]').getAttribute('href')).toMatch(/^data:image\/svg\+xml,/);

      // topics list: the CLI's 10 records, bytes on disk
      await go(page, '#/topics');
      const orders = page.locator('[data-testid="topic-row"][data-topic="console-orders"]');
      await orders.waitFor();
      expect(await orders.getAttribute('data-records')).toBe('10');
      expect(Number(await orders.getAttribute('data-size'))).toBeGreaterThan(0);
      expect(await orders.getByTestId('topic-size').textContent()).toMatch(/\d+(\.\d)? (B|KiB)/);

      // create a topic with a config through the form
      await page.locator('[data-testid="create-topic"] summary').click();
      const create = page.getByTestId('create-topic-form');
      await create.locator('input[name="name"]').fill('console-made');
      await create.locator('input[name="partitions"]').fill('2');
      await create.locator('textarea[name="configs"]').fill('retention.ms=3600000');
      await create.getByTestId('create-topic-submit').click();
      await page.waitForFunction(`location.hash === '#/topics/console-made' && ${pageReady}`);
      await expect.poll(() => page.getByTestId('partition-row').count(), { timeout: uiTimeoutMs }).toBe(2);
      const retention = page.locator('[data-testid="config-row"][data-key="retention.ms"]');
      expect(await retention.locator('td').nth(1).textContent()).toBe('3600000');

      // alter: a config value, then one more partition
      await page.getByTestId('config-key').fill('retention.ms');
      await page.getByTestId('config-value').fill('7200000');
      await page.getByTestId('alter-config-submit').click();
      await expect.poll(() => retention.locator('td').nth(1).textContent(), { timeout: uiTimeoutMs }).toBe('7200000');
      await page.waitForFunction(pageReady);
      await page.locator('#add-partitions-form input[name="count"]').fill('3');
      await page.getByTestId('add-partitions-submit').click();
      await expect.poll(() => page.getByTestId('partition-row').count(), { timeout: uiTimeoutMs }).toBe(3);
      await shot(page, 'topic');

      // produce a JSON message with a header, then find it by a value substring (any case)
      await go(page, '#/messages?topic=console-orders&partition=1');
      await page.locator('[data-testid="produce"] summary').click();
      const produce = page.getByTestId('produce-form');
      await produce.locator('input[name="partition"]').fill('1');
      await page.getByTestId('produce-key').fill('cust-9');
      await page.getByTestId('produce-value').fill('{"customer":"Zed","sku":"needle-42"}');
      await page.getByTestId('produce-headers').fill('source=console-test');
      await page.getByTestId('produce-submit').click();
      await page.waitForFunction(`location.hash.includes('offset=') && ${pageReady}`);
      await go(page, '#/messages?topic=console-orders&partition=1&contains=NEEDLE-42');
      const found = page.getByTestId('message-row');
      expect(await found.count()).toBe(1);
      expect(await found.getByTestId('message-key').textContent()).toBe('cust-9');
      // pretty-printed: one key per line
      expect(await found.getByTestId('message-value').textContent()).toContain('"sku": "needle-42"');
      expect(await found.locator('pre.json').count()).toBe(1);
      expect(await found.getByTestId('message-headers').textContent()).toBe('source: console-test');
      const scanned = Number(await page.getByTestId('search-summary').getAttribute('data-scanned'));
      expect(scanned).toBeGreaterThanOrEqual(1);
      expect(await page.getByTestId('search-summary').textContent()).toContain(`in ${scanned} record(s) scanned`);
      await shot(page, 'messages');

      // a time jump to an hour from now reads nothing
      const later = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
      await go(page, `#/messages?topic=console-orders&partition=1&from=time&time=${later}`);
      expect(await page.getByTestId('message-row').count()).toBe(0);

      // delete the created topic (two clicks)
      await go(page, '#/topics/console-made');
      await page.getByTestId('delete-topic').click();
      await page.getByTestId('delete-topic-confirm').click();
      await page.waitForFunction(`location.hash === '#/topics' && ${pageReady}`);
      await page.locator('[data-testid="topic-row"][data-topic="console-orders"]').waitFor();
      expect(await page.locator('[data-testid="topic-row"][data-topic="console-made"]').count()).toBe(0);
      await shot(page, 'topics');

      // the group page: a lag line per partition, redrawn from samples every 3 s
      await go(page, '#/groups');
      const groupRow = page.locator('[data-testid="group-row"][data-group="console-group"]');
      await groupRow.waitFor();
      expect(await groupRow.getAttribute('data-lag')).toMatch(/^\d+$/);
      await go(page, '#/groups/console-group');
      await page.waitForFunction("Number(document.getElementById('lag-chart')?.dataset.samples ?? 0) >= 2", null, {
        timeout: uiTimeoutMs,
      });
      expect(await page.locator('#lag-chart path').count()).toBe(2);
      expect(await page.getByTestId('lag-row').count()).toBe(2);
      // 3 more records on the partition the group has committed on (the CLI's producer picked it): the
      // page's next samples show the lag, and that partition's line climbs to it
      // (data-lag is empty where the group has committed nothing)
      const partition = Number(
        await page.evaluate(
          `[...document.querySelectorAll('[data-testid="lag-row"]')].find((r) => /^\\d+$/.test(r.dataset.lag)).dataset.partition`,
        ),
      );
      const before = Number(await page.getByTestId('total-lag').textContent());
      const produced = await page.evaluate(`Promise.all([0, 1, 2].map(() => fetch('/api/messages', {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'x' },
        body: JSON.stringify({ topic: 'console-orders', partition: ${partition}, value: 'late order' }) }).then((r) => r.status)))`);
      expect(produced).toEqual([201, 201, 201]);
      await expect
        .poll(async () => Number(await page.getByTestId('total-lag').textContent()), { timeout: uiTimeoutMs })
        .toBe(before + 3);
      const lagged = page.locator(
        `[data-testid="lag-row"][data-topic="console-orders"][data-partition="${partition}"]`,
      );
      expect(Number(await lagged.getAttribute('data-lag'))).toBeGreaterThanOrEqual(3);
      // the newest point of partition 0's line is at the top of the chart (the largest value)
      const top = await page.evaluate(
        `(() => { const d = document.querySelector('#lag-chart path[data-series="console-orders-${partition}"]').getAttribute('d');
          const last = d.trim().split(' ').at(-1); return Number(last.split(',')[1]); })()`,
      );
      expect(top).toBeLessThan(20);
      await shot(page, 'group');

      // a live member: its client id and its partitions on the group page
      const client = new Sluice({ brokers: broker.address, clientId: 'console-live-client' });
      try {
        const consumer = client.consumer({ groupId: 'console-live', autoOffsetReset: 'earliest' });
        await consumer.subscribe({ topics: ['console-orders'] });
        for (let i = 0; i < 50 && consumer.assignment().length < 2; i++) await consumer.poll({ maxWaitMs: 100 });
        expect(consumer.assignment()).toHaveLength(2);
        await go(page, '#/groups/console-live');
        const member = page.getByTestId('member-row');
        expect(await member.count()).toBe(1);
        expect(await member.textContent()).toContain('console-live-client');
        expect(await member.textContent()).toContain('console-orders [0, 1]');
        expect(await page.getByTestId('group-state').textContent()).toBe('Stable');
        await shot(page, 'group-member');
      } finally {
        await client.close();
      }

      // broker page: disk per log dir, RSS, request rates
      await go(page, '#/broker');
      const disk = page.getByTestId('disk-row').first();
      await disk.waitFor();
      expect(Number(await disk.getAttribute('data-free'))).toBeGreaterThan(0);
      expect(Number(await page.getByTestId('rss').getAttribute('data-bytes'))).toBeGreaterThan(0);
      // every broker's disk (DescribeLogDirs): the one broker here, holding data
      const clusterDisk = page.getByTestId('cluster-disk');
      expect(await clusterDisk.count()).toBe(1);
      expect(Number(await clusterDisk.first().getAttribute('data-size'))).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="request-row"][data-api="Produce"]').count()).toBe(1);
      // rates need a second sample (3 s later)
      await page.waitForFunction("Number(document.getElementById('request-chart')?.dataset.samples ?? 0) >= 1", null, {
        timeout: uiTimeoutMs,
      });
      await shot(page, 'broker');
    } finally {
      await page.context().close();
    }
  });

  it('as viewer: no admin controls and the API refuses them (403); the phone layout fits 390 px', async () => {
    const page = await newPage({ width: 390, height: 844 });
    try {
      await logIn(page, 'viewer');
      await go(page, '#/topics');
      await page.locator('[data-testid="topic-row"][data-topic="console-orders"]').waitFor();
      expect(await page.getByTestId('create-topic').count()).toBe(0);
      // nothing wider than the phone but the tables' own scroll boxes
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await shot(page, 'phone-topics');
      await go(page, '#/topics/console-orders');
      expect(await page.getByTestId('partition-row').count()).toBe(2);
      expect(await page.getByTestId('topic-admin').count()).toBe(0);
      expect(await page.getByTestId('delete-topic').count()).toBe(0);
      // partition 1 holds at least the message produced in the admin test above
      await go(page, '#/messages?topic=console-orders&partition=1');
      expect(await page.getByTestId('message-row').count()).toBeGreaterThan(0);
      expect(await page.getByTestId('produce').count()).toBe(0);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await shot(page, 'phone-messages');
      const statuses = await page.evaluate(`Promise.all([
        fetch('/api/messages', { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'x' },
          body: JSON.stringify({ topic: 'console-orders', value: 'x' }) }).then((r) => r.status),
        fetch('/api/topics', { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'x' },
          body: JSON.stringify({ name: 'viewer-made' }) }).then((r) => r.status),
        fetch('/api/topics/console-orders', { method: 'DELETE', headers: { 'x-requested-with': 'x' } }).then((r) => r.status),
      ])`);
      expect(statuses).toEqual([403, 403, 403]);
    } finally {
      await page.context().close();
    }
  });
});
