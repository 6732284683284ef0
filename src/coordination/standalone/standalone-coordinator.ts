/**
 * Standalone mode (`zookeeper.connect` empty): one broker, leader of every
 * partition, topics persisted in the broker's LevelDB under keys that cannot
 * collide with partition keys ('~' is not legal in a topic name).
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { type IndexDb, packValue, unpackValue } from '../../storage/index-store.js';
import type { BrokerEndpoint, Coordinator, PartitionState, TopicSpec } from '../coordinator.js';

const topicPrefix = '~topic!';

export class StandaloneCoordinator implements Coordinator {
  private readonly specs = new Map<string, TopicSpec>();

  constructor(
    readonly brokerId: number,
    private readonly endpoint: BrokerEndpoint,
    private readonly db: IndexDb,
  ) {}

  async start(): Promise<void> {
    for await (const [, value] of this.db.iterator({ gte: topicPrefix, lt: `${topicPrefix}~` })) {
      const spec = unpackValue<TopicSpec>(value);
      this.specs.set(spec.name, spec);
    }
  }

  async close(): Promise<void> {}

  brokers(): BrokerEndpoint[] {
    return [this.endpoint];
  }

  controllerId(): number {
    return this.brokerId;
  }

  topics(): TopicSpec[] {
    return [...this.specs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  topic(name: string): TopicSpec | undefined {
    return this.specs.get(name);
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    const spec = this.specs.get(topic);
    if (!spec || partition < 0 || partition >= spec.partitions) return undefined;
    return { topic, partition, leader: this.brokerId, leaderEpoch: 0, replicas: [this.brokerId], isr: [this.brokerId] };
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    if (this.specs.has(spec.name)) throw new SluiceError(ErrorCode.TopicExists, `topic ${spec.name} already exists`);
    if (spec.replicationFactor > 1) {
      throw new SluiceError(
        ErrorCode.InvalidReplicationFactor,
        `replication factor ${spec.replicationFactor} is larger than the 1 broker available (standalone mode)`,
      );
    }
    const stored: TopicSpec = { ...spec, configs: { ...spec.configs } };
    await this.db.put(`${topicPrefix}${spec.name}`, packValue(stored), { sync: true });
    this.specs.set(spec.name, stored);
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.specs.has(name)) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${name} does not exist`);
    await this.db.del(`${topicPrefix}${name}`, { sync: true });
    this.specs.delete(name);
  }
}
