/**
 * What the transacted-session tests share: a one-broker cluster set up for
 * Kafka transactions (internal topics of replication factor 1, timed-out
 * transactions aborted within 200 ms of their timeout), the queue helpers,
 * and the crash fixture (test/fixtures/session-txn-crash.ts) run as a child
 * process up to the moment before its EndTxn, then left to the test to kill
 * by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Sluice } from '../../src/index.js';
import { repoRoot } from './broker-process.js';
import { killAndWait } from './child-process.js';
import { TestCluster } from './cluster.js';

export const text = (m: { value: Buffer | null }): string => m.value?.toString() ?? '';

export interface SessionTxnCluster {
  /** The running cluster (set once beforeAll ran). */
  readonly cluster: TestCluster;
  /** Runs the crash fixture with `args` until it prints "before-end-txn"; killed by PID after each test. */
  crashAtEndTxn(args: string[]): Promise<{ child: ChildProcess; stdout: string }>;
  /** Waits until the queue's log ends at `end` (a transaction's batch and its marker are in it). */
  logReaches(queue: string, end: number): Promise<void>;
}

/** Registers the file's hooks: the cluster started before its tests, children killed after each, all stopped after. */
export function sessionTxnCluster(label: string, overrides: string[] = []): SessionTxnCluster {
  let cluster: TestCluster | undefined;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    cluster = await TestCluster.start({
      brokers: 1,
      label,
      overrides: [
        'queue.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.num.partitions=3',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms=200',
        'queue.redelivery.delay.ms=0',
        ...overrides,
      ],
    });
  }, 90_000);
  afterEach(async () => {
    await Promise.allSettled(children.splice(0).map(killAndWait));
  });
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  const running = (): TestCluster => {
    if (!cluster) throw new Error('the cluster is not started (beforeAll did not run)');
    return cluster;
  };
  return {
    get cluster() {
      return running();
    },
    async crashAtEndTxn(args) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(repoRoot, 'test/fixtures/session-txn-crash.ts'), running().bootstrap, ...args],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      let stderr = '';
      let stdout = '';
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (c: Buffer) => {
          stdout += c.toString();
          if (stdout.includes('before-end-txn')) resolve();
        });
        child.once('exit', () => reject(new Error(`the session process ended first: ${stderr}`)));
      });
      return { child, stdout };
    },
    async logReaches(queue, end) {
      await running().poll(`__queue.${queue} to reach offset ${end}`, 60_000, async () => {
        const p = (await running().describe(`__queue.${queue}`)).partitions[0];
        return p && p.highWatermark >= end ? true : undefined;
      });
    },
  };
}

/** What `queue` holds now (browsed: nothing acquired). */
export async function contents(sluice: Sluice, queue: string): Promise<string[]> {
  return (await sluice.admin().browseQueue(queue, 100)).map(text);
}
