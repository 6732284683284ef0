/**
 * Auto-creation (Metadata, Produce) of a topic that exists in ZooKeeper but
 * not yet in this broker's view (another broker just created it, or this
 * broker has just restarted and not loaded it): Kafka answers
 * LEADER_NOT_AVAILABLE (retriable), never TOPIC_ALREADY_EXISTS, which a
 * kafkajs consumer takes as fatal (it crashed, not restarted, in
 * kafka-transactions-cluster.test.ts after a broker restart).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import type { TopicSpec } from '../../../src/coordination/coordinator.js';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { ErrorCode, SluiceError, toWireError, WireError } from '../../../src/shared/errors.js';
import { TopicManager } from '../../../src/topics/topic-manager.js';
import { MemoryCoordinator } from '../../helpers/replica-manager.js';

/** A broker whose view lacks `hidden`, which ZooKeeper already holds (createTopic refuses it). */
class LaggingView extends MemoryCoordinator {
  visible: TopicSpec | undefined;
  constructor(
    private readonly hidden: string,
    private readonly refusal: SluiceError,
  ) {
    super();
  }
  override topic(name: string): TopicSpec | undefined {
    return name === this.hidden ? this.visible : super.topic(name);
  }
  // MemoryCoordinator declares createTopic without its spec argument
  override async createTopic(...args: unknown[]): Promise<void> {
    if ((args[0] as TopicSpec).name === this.hidden) throw this.refusal;
  }
}

// never reached: creation is refused before any partition is opened
const noReplicas = {} as ReplicaManager;
const config = parseBrokerConfig(new Map([['auto.create.topics.enable', 'true']]));

describe('auto-creation of a topic this broker does not know yet', () => {
  it('answers LEADER_NOT_AVAILABLE (retriable) when ZooKeeper already holds it', async () => {
    const view = new LaggingView('late', new SluiceError(ErrorCode.TopicExists, 'topic late already exists'));
    const topics = new TopicManager(noReplicas, view, config, pino({ level: 'silent' }));
    const err = await topics.getOrAutoCreate('late').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(ErrorCode.LeaderNotAvailable);
    // on the wire: 5, which every Kafka client retries after a metadata refresh
    expect(toWireError(err).errorCode).toBe(WireError.LEADER_NOT_AVAILABLE);
  });

  it('returns the topic when the view learned it while the creation was refused', async () => {
    const view = new LaggingView('late', new SluiceError(ErrorCode.TopicExists, 'topic late already exists'));
    const spec: TopicSpec = { name: 'late', partitions: 3, replicationFactor: 1, configs: {} };
    const topics = new TopicManager(noReplicas, view, config, pino({ level: 'silent' }));
    const creating = topics.getOrAutoCreate('late');
    view.visible = spec;
    await expect(creating).resolves.toBe(spec);
  });

  it('passes any other refusal on unchanged', async () => {
    const refusal = new SluiceError(ErrorCode.InvalidReplicationFactor, 'not enough brokers');
    const topics = new TopicManager(noReplicas, new LaggingView('late', refusal), config, pino({ level: 'silent' }));
    await expect(topics.getOrAutoCreate('late')).rejects.toBe(refusal);
  });
});
