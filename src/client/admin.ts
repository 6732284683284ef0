/**
 * Topic administration: create, delete, list, describe. describeTopic adds
 * each partition's logStartOffset and highWatermark (ListOffsets earliest and
 * latest at the leader) to the metadata, in the CONTRACT's describe shape.
 * Consumer groups (list, describe, reset offsets) are in group-admin.ts.
 */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  ConfigResourceType,
  ConfigSource,
  type CreateTopicsRequest,
  type DeleteTopicsRequest,
  type IncrementalAlterConfigsRequest,
} from '../protocol/native/messages.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { clientLeaderWaitPollsMax, topicNameLengthMax } from '../shared/limits.js';
import { type AclDescription, type AclFilterOptions, createAcls, deleteAcls, describeAcls } from './acl-admin.js';
import type { Cluster } from './cluster.js';
import { wasSent } from './connection.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';
import {
  describeGroup,
  type GroupDescription,
  type GroupListing,
  groupNotFound,
  listGroups,
  type ResetOffsetsOptions,
  type ResetOffsetsResult,
  resetOffsets,
} from './group-admin.js';
import { describeLogDirs, type LogDirsOfCluster } from './log-dir-admin.js';
import { earliestTimestamp, latestTimestamp, listOffsets } from './offsets.js';
import {
  type CreatePartitionsOptions,
  createPartitions,
  type DeletedRecords,
  type DeleteRecordsOptions,
  deleteRecords,
} from './partition-admin.js';
import { browseQueue, listDeadLetterQueues, listQueues, purgeQueue, queueStats, redriveQueue } from './queue-admin.js';
import {
  alterClientQuota,
  type ClientQuotaDescription,
  type ClientQuotaEntity,
  describeClientQuotas,
} from './quota-admin.js';
import {
  listPartitionReassignments,
  type PartitionReassignmentStatus,
  type ReassignPartitionsOptions,
  reassignPartitions,
} from './reassignment-admin.js';
import {
  describeTransactions,
  type ListTransactionsOptions,
  listTransactions,
  type TransactionDescription,
  type TransactionListing,
} from './transaction-admin.js';
import type {
  AlterTopicConfigsOptions,
  CreateTopicOptions,
  DeadLetterQueueInfo,
  QueueBrowsedMessage,
  QueueStatistics,
  TopicConfigEntry,
  TopicConfigSource,
  TopicDescription,
} from './types.js';
import {
  deleteScramCredential,
  describeScramUsers,
  type ScramUserDescription,
  scramMechanismOption,
  upsertScramCredential,
} from './user-admin.js';

const adminTimeoutMs = 30_000;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > topicNameLengthMax) {
    throw invalidArgument(`a topic name must be a string of 1..${topicNameLengthMax} characters`);
  }
  return name;
}

function sourceName(source: number): TopicConfigSource {
  if (source === ConfigSource.TopicConfig) return 'DYNAMIC_TOPIC_CONFIG';
  if (source === ConfigSource.StaticBrokerConfig) return 'STATIC_BROKER_CONFIG';
  if (source === ConfigSource.DefaultConfig) return 'DEFAULT_CONFIG';
  return 'UNKNOWN';
}

export type { ClientQuotaDescription, ClientQuotaEntity };

export class Admin {
  constructor(private readonly cluster: Cluster) {}

  /**
   * Creates or replaces a user's SCRAM credential (Kafka's AlterUserScramCredentials;
   * mechanism 'scram-sha-256' or 'scram-sha-512', iterations 4096..16384, default 4096).
   * The password is salted and hashed here; only the salted password is sent.
   */
  upsertScramUser(options: { user: string; mechanism: string; password: string; iterations?: number }): Promise<void> {
    return upsertScramCredential(
      this.cluster,
      options.user,
      scramMechanismOption(options.mechanism),
      options.password,
      options.iterations,
    );
  }

  /** Deletes a user's SCRAM credential for one mechanism. */
  deleteScramUser(options: { user: string; mechanism: string }): Promise<void> {
    return deleteScramCredential(this.cluster, options.user, scramMechanismOption(options.mechanism));
  }

  /** Users with SCRAM credentials and their mechanisms and iterations (DescribeUserScramCredentials). */
  describeScramUsers(users?: string[]): Promise<ScramUserDescription[]> {
    return describeScramUsers(this.cluster, users);
  }

  /**
   * Sets (a number) or removes (null) client quotas of one entity (Kafka's
   * AlterClientQuotas): keys producer_byte_rate, consumer_byte_rate, request_percentage.
   */
  alterClientQuota(entity: ClientQuotaEntity, changes: Record<string, number | null>): Promise<void> {
    return alterClientQuota(this.cluster, entity, changes);
  }

  /** Every stored client quota (DescribeClientQuotas). */
  describeClientQuotas(): Promise<ClientQuotaDescription[]> {
    return describeClientQuotas(this.cluster);
  }

  /** Creates a topic; waits until every partition has a leader unless waitForLeaders is false. */
  async createTopic(options: CreateTopicOptions): Promise<void> {
    const name = checkName(options?.topic);
    const spec: CreateTopicsRequest['topics'][number] = { name };
    if (options.partitions !== undefined) {
      if (!Number.isInteger(options.partitions) || options.partitions < 1)
        throw invalidArgument('partitions must be a positive integer');
      spec.numPartitions = options.partitions;
    }
    if (options.replicationFactor !== undefined) {
      if (!Number.isInteger(options.replicationFactor) || options.replicationFactor < 1) {
        throw invalidArgument('replicationFactor must be a positive integer');
      }
      spec.replicationFactor = options.replicationFactor;
    }
    if (options.config)
      spec.configs = Object.fromEntries(Object.entries(options.config).map(([k, v]) => [k, String(v)]));
    const body: CreateTopicsRequest = { topics: [spec], timeoutMs: adminTimeoutMs };
    // a create that was written may have happened: retried only when it never left
    const res = await this.cluster.retry(
      async () => {
        const conn = await this.cluster.controllerConnection();
        return conn.request(ApiKey.CreateTopics, body, { timeoutMs: adminTimeoutMs + 5_000 });
      },
      { retryIf: (err) => !wasSent(err) },
    );
    checkTopLevel(res, `create topic '${name}'`);
    const t = res.topics?.find((x) => x.name === name);
    if (t && t.errorCode !== 0) throw wireError(t.errorCode, `create topic '${name}'`, t.errorMessage);
    this.cluster.forget(name);
    if (options.waitForLeaders !== false) await this.waitForLeaders(name);
  }

  private async waitForLeaders(name: string): Promise<void> {
    for (let i = 0; i < clientLeaderWaitPollsMax; i++) {
      try {
        const t = await this.cluster.topic(name, { force: true });
        if (t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) return;
      } catch (err) {
        if (
          !(err instanceof SluiceError) ||
          (err.code !== ErrorCode.UnknownPartition &&
            err.code !== ErrorCode.NotLeader &&
            err.code !== ErrorCode.LeaderNotAvailable)
        ) {
          throw err;
        }
      }
      await this.cluster.pause(Math.min(50 * (i + 1), 500));
    }
    throw new SluiceError(ErrorCode.Timeout, `topic '${name}' was created but its partitions have no leader yet`);
  }

  async deleteTopic(topic: string): Promise<void> {
    const name = checkName(topic);
    const body: DeleteTopicsRequest = { topics: [name], timeoutMs: adminTimeoutMs };
    const res = await this.cluster.retry(
      async () => {
        const conn = await this.cluster.controllerConnection();
        return conn.request(ApiKey.DeleteTopics, body, { timeoutMs: adminTimeoutMs + 5_000 });
      },
      { retryIf: (err) => !wasSent(err) },
    );
    checkTopLevel(res, `delete topic '${name}'`);
    const t = res.topics?.find((x) => x.name === name);
    if (t && t.errorCode !== 0) throw wireError(t.errorCode, `delete topic '${name}'`, t.errorMessage);
    this.cluster.forget(name);
  }

  /**
   * A topic's configs: every topic key with its value and where that comes
   * from (the topic's override, the broker's properties, or the default), in
   * the broker's order (DescribeConfigs).
   */
  async describeTopicConfigs(topic: string): Promise<TopicConfigEntry[]> {
    const name = checkName(topic);
    const res = await this.cluster.retry(async () => {
      const conn = await this.cluster.anyConnection();
      return conn.request(ApiKey.DescribeConfigs, {
        resources: [{ resourceType: ConfigResourceType.Topic, resourceName: name, configurationKeys: null }],
      });
    });
    checkTopLevel(res, `describe the configs of topic '${name}'`);
    const r = res.results?.[0];
    if (!r) throw wireError(WireError.UNKNOWN_SERVER_ERROR, `describe the configs of topic '${name}'`, 'no answer');
    if (r.errorCode !== 0) throw wireError(r.errorCode, `describe the configs of topic '${name}'`, r.errorMessage);
    return r.configs.map((c) => ({
      name: c.name,
      value: c.value,
      source: sourceName(c.source),
      sensitive: c.isSensitive,
    }));
  }

  /**
   * Sets (a value) and removes (null: back to the broker's value) a topic's
   * config overrides in one step (IncrementalAlterConfigs SET and DELETE);
   * every broker applies the change. Keys not named keep their overrides.
   */
  async alterTopicConfigs(
    topic: string,
    changes: Record<string, string | number | boolean | null>,
    options: AlterTopicConfigsOptions = {},
  ): Promise<void> {
    const name = checkName(topic);
    if (typeof changes !== 'object' || changes === null || Object.keys(changes).length === 0) {
      throw invalidArgument('changes must name at least one config');
    }
    const body: IncrementalAlterConfigsRequest = {
      resources: [
        {
          resourceType: ConfigResourceType.Topic,
          resourceName: name,
          configs: Object.entries(changes).map(([key, value]) =>
            value === null
              ? { name: key, configOperation: 1, value: null }
              : { name: key, configOperation: 0, value: String(value) },
          ),
        },
      ],
      validateOnly: options.validateOnly === true,
    };
    // setting the same values again is harmless: retried even when it may have been sent
    const res = await this.cluster.retry(async () => {
      const conn = await this.cluster.controllerConnection();
      return conn.request(ApiKey.IncrementalAlterConfigs, body, { timeoutMs: adminTimeoutMs + 5_000 });
    });
    checkTopLevel(res, `alter the configs of topic '${name}'`);
    const r = res.results?.[0];
    if (!r) throw wireError(WireError.UNKNOWN_SERVER_ERROR, `alter the configs of topic '${name}'`, 'no answer');
    if (r.errorCode !== 0) throw wireError(r.errorCode, `alter the configs of topic '${name}'`, r.errorMessage);
  }

  /** Grows a topic to `count` partitions (never shrinks it); producers and groups pick the new ones up. */
  async createPartitions(options: CreatePartitionsOptions): Promise<void> {
    checkName(options?.topic);
    await createPartitions(this.cluster, options);
    if (options.validateOnly !== true) await this.waitForLeaders(options.topic);
  }

  /** Moves partitions' log start forward (Kafka's DeleteRecords); answers each one's new log start. */
  deleteRecords(options: DeleteRecordsOptions): Promise<DeletedRecords[]> {
    checkName(options?.topic);
    return deleteRecords(this.cluster, options);
  }

  /** Topic names, sorted; internal topics (names starting with '__') only when asked. */
  /** Creates ACLs (issue 17; Alter on the cluster needed). Names as Kafka's: Topic/Group/Cluster/TransactionalId, LITERAL/PREFIXED, Read/Write/..., ALLOW/DENY. */
  async createAcls(acls: AclDescription[]): Promise<void> {
    await createAcls(this.cluster, acls);
  }

  /** The ACLs the filter matches (every ACL without one; Describe on the cluster needed). */
  async describeAcls(filter: AclFilterOptions = {}): Promise<AclDescription[]> {
    return describeAcls(this.cluster, filter);
  }

  /** Removes the ACLs the filter matches; resolves with those removed. */
  async deleteAcls(filter: AclFilterOptions): Promise<AclDescription[]> {
    return deleteAcls(this.cluster, filter);
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const res = await this.cluster.retry(() => this.cluster.refreshMetadata(null));
    return res.topics
      .filter((t) => t.errorCode === 0 && (options.includeInternal || !t.name.startsWith('__')))
      .map((t) => t.name)
      .sort();
  }

  /** One topic's description, or (no name) every topic's, sorted by name. */
  describeTopic(name: string): Promise<TopicDescription>;
  describeTopic(): Promise<TopicDescription[]>;
  async describeTopic(name?: string): Promise<TopicDescription | TopicDescription[]> {
    if (name === undefined) {
      const names = await this.listTopics();
      const out: TopicDescription[] = [];
      for (const n of names) out.push(await this.describeOne(n));
      return out;
    }
    return this.describeOne(checkName(name));
  }

  /** Every consumer group the cluster knows (with members or committed offsets), sorted by name. */
  listGroups(): Promise<GroupListing[]> {
    return listGroups(this.cluster);
  }

  /** A group's members, assignments and per-partition committed offset, log end and lag (group-admin.ts). */
  describeGroup(group: string): Promise<GroupDescription> {
    return describeGroup(this.cluster, group);
  }

  /** Transactional ids known to the coordinators (every broker asked), sorted by id (Kafka 3's ListTransactions). */
  listTransactions(options: ListTransactionsOptions = {}): Promise<TransactionListing[]> {
    return listTransactions(this.cluster, options);
  }

  /** Each transactional id's state at its own coordinator (Kafka 3's DescribeTransactions). */
  describeTransactions(transactionalIds: string[]): Promise<TransactionDescription[]> {
    return describeTransactions(this.cluster, transactionalIds);
  }

  /** Moves a group's committed offsets on a topic; the group must have no active members. */
  resetOffsets(options: ResetOffsetsOptions): Promise<ResetOffsetsResult[]> {
    return resetOffsets(this.cluster, options);
  }

  /**
   * Deletes a consumer group and its committed offsets (Kafka's DeleteGroups).
   * Only a group without active members can be deleted; one that does not
   * exist is an error too.
   */
  async deleteGroup(group: string): Promise<void> {
    if (typeof group !== 'string' || group.length === 0) throw invalidArgument('a group id must be a non-empty string');
    const res = await this.cluster.retry(async () => {
      const any = await this.cluster.anyConnection();
      const found = await any.request(ApiKey.FindCoordinator, { key: group });
      checkTopLevel(found, `find the coordinator of group '${group}'`);
      const conn = await this.cluster.connectionTo({ host: found.host, port: found.port });
      const answer = await conn.request(ApiKey.DeleteGroups, { groups: [group] });
      checkTopLevel(answer, `delete group '${group}'`);
      const r = answer.results?.find((x) => x.groupId === group);
      if (!r) throw wireError(WireError.UNKNOWN_SERVER_ERROR, `delete group '${group}'`, 'no answer for the group');
      // NOT_COORDINATOR and the like are retriable: the coordinator is looked up again
      if (
        r.errorCode !== 0 &&
        r.errorCode !== WireError.NON_EMPTY_GROUP &&
        r.errorCode !== WireError.GROUP_ID_NOT_FOUND
      )
        throw wireError(r.errorCode, `delete group '${group}'`, r.errorMessage);
      return r;
    });
    if (res.errorCode === WireError.GROUP_ID_NOT_FOUND) throw groupNotFound(group);
    if (res.errorCode === WireError.NON_EMPTY_GROUP) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `cannot delete consumer group '${group}': it has active members (NON_EMPTY_GROUP); stop its consumers first`,
      );
    }
  }

  /**
   * Moves partitions to new replicas (or cancels, replicas null): Kafka's
   * alterPartitionReassignments, at the controller. Resolves once recorded;
   * each completes when its new replicas have caught up (reassignment-admin.ts).
   */
  reassignPartitions(options: ReassignPartitionsOptions): Promise<void> {
    return reassignPartitions(this.cluster, options);
  }

  /** Every broker's log directories: replicas held and their bytes on disk, free and total bytes (DescribeLogDirs). */
  describeLogDirs(): Promise<LogDirsOfCluster> {
    return describeLogDirs(this.cluster);
  }

  /** The partitions under reassignment (all, or those named), sorted. */
  listPartitionReassignments(
    topics?: { topic: string; partitions: number[] }[],
  ): Promise<PartitionReassignmentStatus[]> {
    return listPartitionReassignments(this.cluster, topics);
  }

  /** Stats of one queue, or (no name) of every queue on every broker, sorted by name. */
  queueStats(name: string): Promise<QueueStatistics>;
  queueStats(): Promise<QueueStatistics[]>;
  queueStats(name?: string): Promise<QueueStatistics | QueueStatistics[]> {
    return name === undefined ? listQueues(this.cluster) : queueStats(this.cluster, name);
  }

  /** Every queue (dead-letter queues included) with its stats, sorted by name. */
  listQueues(): Promise<QueueStatistics[]> {
    return listQueues(this.cluster);
  }

  /** Up to `maxMessages` (default 100) waiting messages of a queue, oldest first, without consuming them. */
  browseQueue(name: string, options?: number | { maxMessages?: number }): Promise<QueueBrowsedMessage[]> {
    return browseQueue(this.cluster, name, options);
  }

  /** Removes every message of the queue that no consumer holds; resolves to the number removed. */
  purgeQueue(name: string): Promise<number> {
    return purgeQueue(this.cluster, name);
  }

  /** Moves a queue's dead letters back to it; resolves to the number moved. */
  redriveQueue(name: string): Promise<number> {
    return redriveQueue(this.cluster, name);
  }

  /** The dead-letter queues (DLQ.<queue>, plus `sharedName` when a shared one is configured) with their stats. */
  listDeadLetterQueues(sharedName?: string): Promise<DeadLetterQueueInfo[]> {
    return listDeadLetterQueues(this.cluster, sharedName);
  }

  private async describeOne(name: string): Promise<TopicDescription> {
    const info = await this.cluster.retry(() => this.cluster.topic(name, { force: true }), {
      // a missing topic is an answer here, not something to wait out
      retryIf: (err) => !(err instanceof SluiceError && err.code === ErrorCode.UnknownPartition),
    });
    // the offsets are asked of each leader apart: a leader that cannot be reached (down, and the
    // metadata still names it until its ZooKeeper session expires) leaves its partitions' offsets
    // unknown (-1, with the reason) instead of failing the whole description
    const byLeader = new Map<number, number[]>();
    for (const p of info.partitions) {
      if (p.leader < 0) continue;
      const list = byLeader.get(p.leader) ?? [];
      list.push(p.partition);
      byLeader.set(p.leader, list);
    }
    const offsets = new Map<string, number>();
    const unreachable = new Map<number, string>();
    await Promise.all(
      [...byLeader].map(async ([leader, partitions]) => {
        const queries = partitions.flatMap((partition) => [
          { topic: name, partition, timestamp: earliestTimestamp },
          { topic: name, partition, timestamp: latestTimestamp },
        ]);
        try {
          for (const a of await listOffsets(this.cluster, queries))
            offsets.set(`${a.partition}:${a.timestamp}`, a.offset);
        } catch (err) {
          if (!isSluiceError(err, ErrorCode.BrokerUnreachable) && !isSluiceError(err, ErrorCode.Timeout)) throw err;
          for (const partition of partitions)
            unreachable.set(partition, `leader ${leader} unreachable: ${err.message}`);
        }
      }),
    );
    return {
      name,
      partitions: info.partitions.map((p) => {
        const why = unreachable.get(p.partition);
        return {
          partition: p.partition,
          leader: p.leader,
          replicas: [...(p.replicas ?? [])],
          isr: [...(p.isr ?? [])],
          logStartOffset: offsets.get(`${p.partition}:${earliestTimestamp}`) ?? -1,
          highWatermark: offsets.get(`${p.partition}:${latestTimestamp}`) ?? -1,
          ...(why === undefined ? {} : { offsetsUnknown: why }),
        };
      }),
    };
  }
}
