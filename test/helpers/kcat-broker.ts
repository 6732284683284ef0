/**
 * The set-up the Kafka-listener tests that drive Debian's kcat share: one broker process for the
 * file (started in beforeAll, after kcat and whatever else `prepare` installs), the kcat and
 * sluice CLI children stopped by PID after each test, the broker destroyed after all of them.
 * Call it at the top of a test file; it registers the hooks itself.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { BrokerProcess } from './broker-process.js';
import { CliRunner } from './cli-runner.js';
import { ensureKcat, Kcat } from './kcat.js';

export interface KcatBrokerOptions {
  /** The broker's `--override key=value` entries. */
  overrides: string[];
  /** Runs before the broker starts, after kcat is ensured (another Debian package to install). */
  prepare?: () => void;
}

export interface KcatBroker {
  /** The broker process (set once beforeAll has run). */
  readonly broker: BrokerProcess;
  readonly kcat: Kcat;
  readonly cli: CliRunner;
  /** Creates a topic with replication factor 1 through the sluice CLI (exit 0 expected). */
  createTopic(topic: string, partitions: number): Promise<void>;
}

export function kcatBrokerFixture(options: KcatBrokerOptions): KcatBroker {
  let broker: BrokerProcess | undefined;
  const kcat = new Kcat();
  const cli = new CliRunner();
  const stopChildren = async (): Promise<void> => {
    cli.killAll();
    await kcat.stopAll();
  };
  beforeAll(async () => {
    ensureKcat();
    options.prepare?.();
    broker = await BrokerProcess.start({ overrides: options.overrides });
  }, 360_000);
  afterEach(stopChildren, 30_000);
  afterAll(async () => {
    await stopChildren();
    await broker?.destroy();
  }, 30_000);
  const fixture: KcatBroker = {
    get broker(): BrokerProcess {
      if (!broker) throw new Error('the broker is started in beforeAll');
      return broker;
    },
    kcat,
    cli,
    async createTopic(topic, partitions) {
      const r = await cli.run(['topic', 'create', topic, '-p', String(partitions), '-r', '1'], {
        brokers: fixture.broker.address,
      });
      expect(r.code, r.stderr).toBe(0);
    },
  };
  return fixture;
}
