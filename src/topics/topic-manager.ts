/**
 * Creating and deleting topics: checks the request and records it through the
 * coordinator; the replica manager opens or removes the partition logs this
 * broker holds (here, and on every other broker through the coordinator's
 * events). Shared by CreateTopics, DeleteTopics and auto-creation.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { applyTopicConfigChanges, topicLogOverrides } from '../config/topic-config.js';
import type { Coordinator, TopicSpec } from '../coordination/coordinator.js';
import { checkPartitionGrowth } from '../coordination/topic-spec.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { refuseInternalTopic } from '../shared/internal-topics.js';
import { topicPartitionsMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { validateTopicName } from '../storage/names.js';

export class TopicManager {
  constructor(
    private readonly replicas: ReplicaManager,
    private readonly coordinator: Coordinator,
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
  ) {}

  async create(
    name: string,
    partitions = -1,
    replicationFactor = -1,
    configs: Record<string, string> = {},
    validateOnly = false,
  ): Promise<TopicSpec> {
    validateTopicName(name);
    const count = partitions === -1 ? this.config.int('num.partitions') : partitions;
    if (!Number.isInteger(count) || count < 1 || count > topicPartitionsMax) {
      throw new SluiceError(
        ErrorCode.InvalidPartitions,
        `partitions must be 1..${topicPartitionsMax}, got ${partitions}`,
      );
    }
    const rf = replicationFactor === -1 ? this.config.int('default.replication.factor') : replicationFactor;
    if (!Number.isInteger(rf) || rf < 1) {
      throw new SluiceError(
        ErrorCode.InvalidReplicationFactor,
        `replication factor must be at least 1, got ${replicationFactor}`,
      );
    }
    topicLogOverrides(configs);
    if (this.coordinator.topic(name)) throw new SluiceError(ErrorCode.TopicExists, `topic ${name} already exists`);
    const spec: TopicSpec = { name, partitions: count, replicationFactor: rf, configs: { ...configs } };
    if (validateOnly) return spec;
    await this.coordinator.createTopic(spec);
    try {
      await this.replicas.applyTopic(name, true);
    } catch (err) {
      // a partition whose log could not be made here (EMFILE): the creation answers with its error and
      // is undone, so an error means no topic (as for any refused creation) and a restart does not
      // meet the partitions this broker could not open
      this.logger.error(
        { err, topic: name, partitions: count },
        'topic creation failed here: the topic is deleted again',
      );
      await this.delete(name).catch((e: unknown) =>
        this.logger.error({ err: e, topic: name }, 'deleting the topic whose creation failed failed'),
      );
      throw err;
    }
    this.logger.info({ topic: name, partitions: count, replicationFactor: rf }, 'created topic');
    return spec;
  }

  /**
   * The topic, created with the broker's defaults when auto.create.topics.enable
   * allows it. An internal topic is never auto-created (its owner in the broker
   * creates it): asking to is refused with INVALID_TOPIC, as Kafka refuses a
   * name it will not create.
   */
  async getOrAutoCreate(name: string): Promise<TopicSpec | undefined> {
    const existing = this.coordinator.topic(name);
    if (existing || !this.config.bool('auto.create.topics.enable')) return existing;
    refuseInternalTopic(name, 'auto-create');
    validateTopicName(name);
    try {
      return await this.create(name);
    } catch (err) {
      // two requests raced to create it: the other one won
      const now = this.coordinator.topic(name);
      if (now) return now;
      // it exists, but not yet in this broker's view (another broker created it just now, or this
      // broker has just started and not loaded it yet): Kafka's auto-creation answers
      // LEADER_NOT_AVAILABLE, which clients retry; TOPIC_ALREADY_EXISTS is fatal to a kafkajs
      // consumer (it crashes, not restarted) and means nothing to a client that did not create
      if (isSluiceError(err, ErrorCode.TopicExists)) {
        throw new SluiceError(ErrorCode.LeaderNotAvailable, `topic ${name} is not known to this broker yet`);
      }
      throw err;
    }
  }

  /**
   * An internal topic (e.g. __consumer_offsets), created with exactly these
   * settings when missing; the replication factor is capped by the live brokers.
   */
  async ensureInternal(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
  ): Promise<TopicSpec> {
    const existing = this.coordinator.topic(name);
    if (existing) return existing;
    const rf = Math.max(1, Math.min(replicationFactor, this.coordinator.brokers().length));
    try {
      return await this.create(name, partitions, rf, configs);
    } catch (err) {
      const now = this.coordinator.topic(name);
      if (now) return now;
      throw err;
    }
  }

  /**
   * Changes a topic's config overrides (AlterConfigs, IncrementalAlterConfigs,
   * the CLI and HTTP API): `changes` computes them from the current overrides
   * (a key → value sets it, → null removes the override). Every resulting key
   * and value is checked first; validateOnly stops there. Every broker applies
   * the change (the coordinator's onTopicConfigChanged). Returns the new
   * overrides. Internal topics keep the settings the broker gave them.
   */
  async alterConfigs(
    name: string,
    changes: (current: Record<string, string>) => Record<string, string | null>,
    validateOnly = false,
  ): Promise<Record<string, string>> {
    refuseInternalTopic(name, 'alter the configs of');
    const spec = this.coordinator.topic(name);
    if (!spec) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${name} does not exist`);
    const alteration = changes(spec.configs);
    const next = applyTopicConfigChanges(spec.configs, alteration);
    topicLogOverrides(next);
    if (validateOnly) return next;
    const stored = await this.coordinator.alterTopicConfigs(name, alteration);
    this.logger.info({ topic: name, changes: alteration }, 'altered topic configs');
    return stored;
  }

  /**
   * CreatePartitions: grows the topic to `count` partitions (never shrinks it),
   * then opens the new partitions this broker holds. With `validateOnly`, only
   * the checks run. Internal topics are refused: their partition count is
   * part of how keys (groups) map to partitions.
   */
  async createPartitions(name: string, count: number, validateOnly = false): Promise<TopicSpec> {
    validateTopicName(name);
    refuseInternalTopic(name, 'add partitions to');
    const spec = this.coordinator.topic(name);
    if (!spec) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${name} does not exist`);
    checkPartitionGrowth(spec, count);
    if (!this.coordinator.createPartitions) {
      throw new SluiceError(ErrorCode.InvalidRequest, 'this coordinator cannot add partitions');
    }
    if (validateOnly) return { ...spec, partitions: count };
    await this.coordinator.createPartitions(name, count);
    await this.replicas.applyTopic(name, true);
    this.logger.info({ topic: name, from: spec.partitions, to: count }, 'added partitions');
    return this.coordinator.topic(name) ?? { ...spec, partitions: count };
  }

  async delete(name: string): Promise<void> {
    validateTopicName(name);
    await this.coordinator.deleteTopic(name);
    await this.replicas.removeTopic(name);
    this.logger.info({ topic: name }, 'deleted topic');
  }
}
