/**
 * The web console in a real browser (Debian's Chromium driven by
 * playwright-core) against a real broker process: log in as admin, see a
 * topic created through the CLI with its partitions and leaders, see a
 * group's lag and see it fall after consuming, redrive a dead letter with
 * the button; anonymous data calls from the page get 401. A screenshot is
 * saved as test/.results/console.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    overrides: ['http.port=0', 'queue.max.redeliveries=0', 'num.partitions=2', 'default.replication.factor=1'],
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

async function newPage(): Promise<Page> {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
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
});
