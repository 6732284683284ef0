/**
 * Standalone mode (`zookeeper.connect` empty): one broker, leader of every
 * partition, topics persisted in the broker's LevelDB under keys that cannot
 * collide with partition keys ('~' is not legal in a topic name).
 */
import {
  type AclBinding,
  type AclBindingFilter,
  type AclEntry,
  filterMatches,
  type ResourcePattern,
  sameBinding,
} from '../../security/acl.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { aclBindingsMax, producerIdBlockSize } from '../../shared/limits.js';
import { type IndexDb, packValue, unpackValue } from '../../storage/index-store.js';
import { isClusterId, newClusterId } from '../cluster-id.js';
import type {
  BrokerEndpoint,
  Coordinator,
  PartitionState,
  PartitionStateListener,
  TopicConfigListener,
  TopicSpec,
} from '../coordinator.js';
import { type LegacyConsoleUsersStore, parseLegacyRecord } from '../legacy-console-users.js';
import { isTopicId, newTopicId } from '../topic-id.js';
import { checkPartitionGrowth, checkTopicSpec } from '../topic-spec.js';
import { StandaloneClientQuotaStore } from './standalone-client-quota-store.js';
import { StandaloneScramStore } from './standalone-scram-store.js';

const topicPrefix = '~topic!';
/** The end (exclusive) of the last block of producer ids reserved; every id below it may have been handed out. */
const producerIdBlockKey = '~producer-id-block-end';
/** The cluster id, generated at the first start and kept (see cluster-id.ts). */
const clusterIdKey = '~cluster-id';
/** The console users import record (legacy-console-users.ts), with a version for conditional replaces. */
const consoleUsersKey = '~console-users';
/** One resource pattern's ACL entries: `~acl!<patternType>!<resourceType>!<name>` → AclEntry[]. */
const aclPrefix = '~acl!';
const aclKey = (p: ResourcePattern): string => `${aclPrefix}${p.patternType}!${p.resourceType}!${p.name}`;

export class StandaloneCoordinator implements Coordinator {
  private readonly specs = new Map<string, TopicSpec>();
  private readonly stateListeners = new Set<PartitionStateListener>();
  private readonly deleteListeners = new Set<(topic: string) => void>();
  private readonly configListeners = new Set<TopicConfigListener>();
  private id: string | undefined;
  private aclList: AclBinding[] = [];
  /** ACL writes, one at a time (each rewrites whole resources). */
  private aclWrites: Promise<unknown> = Promise.resolve();
  readonly scramCredentials: StandaloneScramStore;
  readonly clientQuotas: StandaloneClientQuotaStore;
  readonly legacyConsoleUsers: LegacyConsoleUsersStore = {
    read: async () => {
      const stored = await this.db.get(consoleUsersKey);
      if (!stored) return undefined;
      const { record, version } = unpackValue<{ record: unknown; version: number }>(stored);
      return { record: parseLegacyRecord('the stored console users record', record), version };
    },
    create: async (record) => {
      if (await this.db.get(consoleUsersKey)) return false;
      await this.db.put(consoleUsersKey, packValue({ record, version: 0 }), { sync: true });
      return true;
    },
    replace: (record, version) => {
      // one at a time, so that two replaces of the same version cannot both succeed
      const write = this.consoleUsersWrites.then(async () => {
        const current = await this.legacyConsoleUsers.read();
        if (current?.version !== version) return false;
        await this.db.put(consoleUsersKey, packValue({ record, version: version + 1 }), { sync: true });
        return true;
      });
      this.consoleUsersWrites = write.catch(() => undefined);
      return write;
    },
  };
  private consoleUsersWrites: Promise<unknown> = Promise.resolve();

  constructor(
    readonly brokerId: number,
    private readonly endpoint: BrokerEndpoint,
    private readonly db: IndexDb,
  ) {
    this.scramCredentials = new StandaloneScramStore(db);
    this.clientQuotas = new StandaloneClientQuotaStore(db);
  }

  async start(): Promise<void> {
    const withoutId: TopicSpec[] = [];
    for await (const [, value] of this.db.iterator({ gte: topicPrefix, lt: `${topicPrefix}~` })) {
      const spec = unpackValue<TopicSpec>(value);
      this.specs.set(spec.name, spec);
      if (!isTopicId(spec.topicId)) withoutId.push(spec);
    }
    // topics created before topic ids existed get one now, kept from then on (Kafka's controller does the same)
    for (const spec of withoutId) {
      spec.topicId = newTopicId();
      await this.db.put(`${topicPrefix}${spec.name}`, packValue(spec), { sync: true });
    }
    this.id = await this.loadClusterId();
    for await (const [key, value] of this.db.iterator({ gte: aclPrefix, lt: `${aclPrefix}~` })) {
      const [patternType, resourceType, ...name] = key.slice(aclPrefix.length).split('!');
      const pattern = { patternType: Number(patternType), resourceType: Number(resourceType), name: name.join('!') };
      for (const entry of unpackValue<AclEntry[]>(value))
        this.aclList.push({ pattern: pattern as ResourcePattern, entry });
    }
    await this.scramCredentials.load();
    await this.clientQuotas.load();
  }

  /** The stored cluster id, or a new one stored (with sync) before it is ever answered. */
  private async loadClusterId(): Promise<string> {
    const stored = await this.db.get(clusterIdKey);
    if (stored) {
      const id = unpackValue<unknown>(stored);
      if (!isClusterId(id)) {
        throw new SluiceError(ErrorCode.StorageError, `the stored cluster id ${JSON.stringify(id)} is invalid`);
      }
      return id;
    }
    const id = newClusterId();
    await this.db.put(clusterIdKey, packValue(id), { sync: true });
    return id;
  }

  clusterId(): string {
    // not an assertion: the listeners open before the coordinator starts (the port is what it
    // registers), so a Metadata request can arrive first; it gets a retriable error, the broker lives on
    if (this.id === undefined)
      throw new SluiceError(ErrorCode.BrokerNotReady, 'the broker has not joined its cluster yet');
    return this.id;
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
    // the Coordinator contract (TopicManager checks first, other callers may not)
    checkTopicSpec(spec);
    if (this.specs.has(spec.name)) throw new SluiceError(ErrorCode.TopicExists, `topic ${spec.name} already exists`);
    if (spec.replicationFactor > 1) {
      throw new SluiceError(
        ErrorCode.InvalidReplicationFactor,
        `replication factor ${spec.replicationFactor} is larger than the 1 broker available (standalone mode)`,
      );
    }
    const stored: TopicSpec = { ...spec, configs: { ...spec.configs }, topicId: newTopicId() };
    await this.db.put(`${topicPrefix}${spec.name}`, packValue(stored), { sync: true });
    this.specs.set(spec.name, stored);
    for (let p = 0; p < stored.partitions; p++) {
      const state = this.partitionState(stored.name, p) as PartitionState;
      for (const listener of this.stateListeners) listener(state, undefined);
    }
  }

  async createPartitions(topic: string, count: number): Promise<void> {
    const spec = this.specs.get(topic);
    if (!spec) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${topic} does not exist`);
    checkPartitionGrowth(spec, count);
    const before = spec.partitions;
    const grown: TopicSpec = { ...spec, configs: { ...spec.configs }, partitions: count };
    await this.db.put(`${topicPrefix}${topic}`, packValue(grown), { sync: true });
    this.specs.set(topic, grown);
    for (let p = before; p < count; p++) {
      const state = this.partitionState(topic, p) as PartitionState;
      for (const listener of this.stateListeners) listener(state, undefined);
    }
  }

  async deleteTopic(name: string): Promise<void> {
    if (!this.specs.has(name)) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${name} does not exist`);
    await this.db.del(`${topicPrefix}${name}`, { sync: true });
    this.specs.delete(name);
    for (const listener of this.deleteListeners) listener(name);
  }

  /**
   * Stored (with sync) before the cache changes and the listeners hear of it.
   * A create or delete of the same topic while the write was under way wins:
   * what it stored is put back and the alteration is tried again (or refused,
   * the topic being gone).
   */
  async alterTopicConfigs(topic: string, changes: Record<string, string | null>): Promise<Record<string, string>> {
    for (;;) {
      const spec = this.specs.get(topic);
      if (!spec) throw new SluiceError(ErrorCode.UnknownPartition, `topic ${topic} does not exist`);
      const configs: Record<string, string> = { ...spec.configs };
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete configs[key];
        else configs[key] = value;
      }
      const stored: TopicSpec = { ...spec, configs };
      await this.db.put(`${topicPrefix}${topic}`, packValue(stored), { sync: true });
      const now = this.specs.get(topic);
      if (now === spec) {
        this.specs.set(topic, stored);
        for (const listener of this.configListeners) listener(topic, { ...configs });
        return { ...configs };
      }
      if (now) await this.db.put(`${topicPrefix}${topic}`, packValue(now), { sync: true });
      else await this.db.del(`${topicPrefix}${topic}`, { sync: true });
    }
  }

  onTopicConfigChanged(listener: TopicConfigListener): () => void {
    this.configListeners.add(listener);
    return () => this.configListeners.delete(listener);
  }

  onPartitionStateChanged(listener: PartitionStateListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onTopicDeleted(listener: (topic: string) => void): () => void {
    this.deleteListeners.add(listener);
    return () => this.deleteListeners.delete(listener);
  }

  /** The only replica is the leader itself: its ISR never changes. */
  async updateIsr(): Promise<boolean> {
    return false;
  }

  // ---- ACLs (issue 17): LevelDB, written with sync before the cache shows them ----

  acls(): readonly AclBinding[] {
    return this.aclList;
  }

  createAcls(bindings: readonly AclBinding[]): Promise<void> {
    return this.writeAcls(async () => {
      const next = [...this.aclList];
      for (const b of bindings) if (!next.some((s) => sameBinding(s, b))) next.push(b);
      if (next.length > aclBindingsMax) {
        throw new SluiceError(ErrorCode.InvalidRequest, `more than ${aclBindingsMax} ACLs would be stored`);
      }
      await this.storeAcls(next, bindings);
    });
  }

  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    return this.writeAcls(async () => {
      const deleted = filters.map((f) => this.aclList.filter((b) => filterMatches(f, b)));
      const gone = new Set(deleted.flat());
      await this.storeAcls(
        this.aclList.filter((b) => !gone.has(b)),
        [...gone],
      );
      return deleted;
    });
  }

  private writeAcls<T>(step: () => Promise<T>): Promise<T> {
    const next = this.aclWrites.then(step, step);
    this.aclWrites = next.catch(() => {});
    return next;
  }

  /** Rewrites the resources `touched` names from `next`, then makes `next` the cache. */
  private async storeAcls(next: AclBinding[], touched: readonly AclBinding[]): Promise<void> {
    const keys = new Set(touched.map((b) => aclKey(b.pattern)));
    const batch = this.db.batch();
    for (const key of keys) {
      const entries = next.filter((b) => aclKey(b.pattern) === key).map((b) => b.entry);
      if (entries.length === 0) batch.del(key);
      else batch.put(key, packValue(entries));
    }
    await batch.write({ sync: true });
    this.aclList = next;
  }

  // ---- producer ids (the idempotent producer) ----

  /** Ids left in the reserved block [next, end), and the reservation of the next block while one is under way. */
  private readonly producerIds: { next: number; end: number; reserving?: Promise<void> } = { next: 0, end: 0 };

  /**
   * Ids come from blocks of producerIdBlockSize whose end is written to the
   * LevelDB with sync before any id of the block is handed out: after a crash
   * the counter resumes past every id that may have been used.
   */
  async allocateProducerId(): Promise<number> {
    const ids = this.producerIds;
    while (ids.next >= ids.end) {
      ids.reserving ??= (async () => {
        const stored = await this.db.get(producerIdBlockKey);
        const start = stored ? unpackValue<number>(stored) : 0;
        if (!Number.isSafeInteger(start) || start < 0) {
          throw new SluiceError(ErrorCode.StorageError, `the stored producer id block end ${String(start)} is invalid`);
        }
        const end = start + producerIdBlockSize;
        await this.db.put(producerIdBlockKey, packValue(end), { sync: true });
        ids.next = start;
        ids.end = end;
      })().finally(() => {
        ids.reserving = undefined;
      });
      await ids.reserving;
    }
    return ids.next++;
  }
}
