/**
 * JMS-style topics (publish/subscribe) on a Sluice topic of the same name:
 *
 *   const news = sluice.topic('news');
 *   await news.publish('hello', { key, headers });            // a produce with acks -1
 *   const live = await news.subscribe(async (m) => {});       // non-durable
 *   const kept = await news.subscribe(async (m) => {}, { durable: 'audit' });
 *   await kept.close(); ...; await news.unsubscribe('audit');
 *
 * A non-durable subscription is a consumer without a group assigned every
 * partition at its latest offset, fixed when subscribe() resolves: it gets
 * exactly what is published from then until close(), and every subscriber
 * gets every message. A durable subscription is the consumer group
 * `__durable.<topic>.<name>`: a new one starts at the latest offsets (committed
 * before subscribe() resolves, so nothing published afterwards is missed even
 * before the group has formed), and later subscribers resume at its committed
 * offsets, getting what was published while none was connected. Offsets are
 * committed every autoCommitIntervalMs (default 500) and on close(); after a
 * crash the messages since the last commit come again (at-least-once).
 * Subscribers sharing one durable name share its messages (JMS 2 shared
 * durable subscriptions). unsubscribe(name) deletes the group (DeleteGroups):
 * only while no subscriber of that name is connected.
 *
 * A handler runs for one message at a time per partition, in order; when it
 * throws, `onError` (if any) is told and the message counts as delivered.
 *
 * Subscribers read committed messages only (isolation level read_committed,
 * issue 21): the publishes of a transacted session (session.topic(), or a
 * transactional producer's sends) reach them at the commit, all at once, and
 * never when aborted; a plain publish (no transaction open on its partition)
 * reaches them at once. A subscription starts at the last stable offsets, so
 * a transaction open when it subscribes is received once committed.
 */

import { ErrorCode, SluiceError } from '../shared/errors.js';
import { topicNameLengthMax } from '../shared/limits.js';
import type { Admin } from './admin.js';
import type { Cluster } from './cluster.js';
import type { Consumer } from './consumer.js';
import { closedError, invalidArgument } from './errors.js';
import { describeGroup, resetOffsets } from './group-admin.js';
import { latestTimestamp, listOffsets } from './offsets.js';
import type { Producer } from './producer.js';
import type {
  ConsumerOptions,
  RecordMetadata,
  TopicMessage,
  TopicPublishOptions,
  TopicSubscribeOptions,
} from './types.js';

/** Prefix of the consumer groups of durable subscriptions. */
export const durableGroupPrefix = '__durable.';
/** Longest group id the coordinator tools accept. */
const groupIdLengthMax = 255;
const durableAutoCommitIntervalMs = 500;

export const durableGroupOf = (topic: string, subscription: string): string =>
  `${durableGroupPrefix}${topic}.${subscription}`;

export function checkTopicName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > topicNameLengthMax)
    throw invalidArgument(`a topic name must be a string of 1..${topicNameLengthMax} characters`);
  return name;
}

/** The group of durable subscription `subscription` of `topic` (its name checked). */
export function durableGroup(topic: string, subscription: unknown): string {
  if (typeof subscription !== 'string' || subscription.length === 0)
    throw invalidArgument('a durable subscription name must be a non-empty string');
  const group = durableGroupOf(topic, subscription);
  if (group.length > groupIdLengthMax)
    throw invalidArgument(`durable subscription name '${subscription}' is too long for topic '${topic}'`);
  return group;
}

/**
 * A durable subscription exists once its group has committed offsets: for
 * partitions without one (a new subscription, or partitions added since),
 * the last stable offset is committed now. Returns the topic's partitions
 * (the topic is created on first use, as a publish would).
 */
export async function establishDurable(cluster: Cluster, topic: string, group: string): Promise<number[]> {
  const info = await cluster.retry(() => cluster.topic(topic, { allowAutoTopicCreation: true, force: true }));
  const partitions = info.partitions.map((p) => p.partition);
  let have = new Set<number>();
  try {
    const d = await describeGroup(cluster, group);
    have = new Set(d.offsets.filter((o) => o.topic === topic && o.committed !== null).map((o) => o.partition));
  } catch (err) {
    if (!(err instanceof SluiceError && err.code === ErrorCode.InvalidArgument)) throw err; // not found: new
  }
  const missing = partitions.filter((p) => !have.has(p));
  if (missing.length === 0) return partitions;
  try {
    await resetOffsets(cluster, { group, topic, partitions: missing, to: 'latest', readCommitted: true });
  } catch (err) {
    // another subscriber of this name is connected: the group is established already
    if (!(err instanceof SluiceError && err.code === ErrorCode.InvalidRequest)) throw err;
  }
  return partitions;
}

export type TopicMessageHandler = (message: TopicMessage) => unknown;

export interface JmsTopicDeps {
  cluster: Cluster;
  producer: () => Producer;
  consumer: (options: ConsumerOptions) => Consumer;
  admin: () => Admin;
  isClosed: () => boolean;
  track: (s: TopicSubscription) => void;
  untrack: (s: TopicSubscription) => void;
}

export class TopicSubscription {
  private readonly running: Promise<void>;
  private received = 0;
  private closed = false;

  constructor(
    readonly topic: string,
    /** The durable subscription's name; null for a non-durable one. */
    readonly durable: string | null,
    private readonly consumer: Consumer,
    handler: TopicMessageHandler,
    private readonly options: TopicSubscribeOptions,
    private readonly onClose: (s: TopicSubscription) => void,
  ) {
    this.running = consumer
      .run({
        eachMessage: async ({ topic, partition, message }) => {
          const m: TopicMessage = { topic, partition, ...message };
          this.received++;
          try {
            await handler(m);
          } catch (err) {
            this.report(err, m);
          }
        },
      })
      .catch((err: unknown) => this.report(err, null));
  }

  private report(err: unknown, message: TopicMessage | null): void {
    try {
      this.options.onError?.(err, message as TopicMessage);
    } catch {
      // an onError that throws changes nothing
    }
  }

  /** Messages handed to the handler so far. */
  get count(): number {
    return this.received;
  }

  /** Stops after the running handler; a durable subscription commits what was handled and stays. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.consumer.close();
    await this.running;
    this.onClose(this);
  }
}

export class JmsTopic {
  constructor(
    readonly name: string,
    private readonly deps: JmsTopicDeps,
  ) {
    checkTopicName(name);
  }

  /** Publishes one message to every subscriber; resolves once every in-sync replica has it. */
  async publish(value: string | Buffer | null, options: TopicPublishOptions = {}): Promise<RecordMetadata> {
    if (this.deps.isClosed()) throw closedError('the client');
    const [meta] = await this.deps
      .producer()
      .send({ topic: this.name, messages: [{ value, key: options.key, headers: options.headers }] });
    return meta as RecordMetadata;
  }

  /** Subscribes `handler`: non-durable, or durable with `{ durable: name }` (see the file comment). */
  async subscribe(handler: TopicMessageHandler, options: TopicSubscribeOptions = {}): Promise<TopicSubscription> {
    if (this.deps.isClosed()) throw closedError('the client');
    if (typeof handler !== 'function') throw invalidArgument('subscribe() needs a handler function');
    const { cluster } = this.deps;
    const durable = options.durable;
    if (durable === undefined) {
      // the topic is created on first use, as a publish would
      const info = await cluster.retry(() => cluster.topic(this.name, { allowAutoTopicCreation: true, force: true }));
      const partitions = info.partitions.map((p) => p.partition);
      // the last stable offsets: a transaction open now is published when it commits, and then received
      const latest = await listOffsets(
        cluster,
        partitions.map((partition) => ({ topic: this.name, partition, timestamp: latestTimestamp })),
        1,
      );
      const consumer = this.deps.consumer({ autoOffsetReset: 'latest', isolationLevel: 'read_committed' });
      consumer.assign(latest.map((a) => ({ topic: this.name, partition: a.partition, offset: a.offset })));
      return this.started(consumer, null, handler, options);
    }
    const group = durableGroup(this.name, durable);
    await establishDurable(cluster, this.name, group);
    const consumer = this.deps.consumer({
      groupId: group,
      autoOffsetReset: 'latest',
      isolationLevel: 'read_committed',
      autoCommit: true,
      autoCommitIntervalMs: durableAutoCommitIntervalMs,
    });
    await consumer.subscribe({ topics: [this.name] });
    return this.started(consumer, durable, handler, options);
  }

  private started(
    consumer: Consumer,
    durable: string | null,
    handler: TopicMessageHandler,
    options: TopicSubscribeOptions,
  ): TopicSubscription {
    const s = new TopicSubscription(this.name, durable, consumer, handler, options, (x) => this.deps.untrack(x));
    this.deps.track(s);
    return s;
  }

  /** Removes a durable subscription (its group and committed offsets); none of its subscribers may be connected. */
  async unsubscribe(subscription: string): Promise<void> {
    if (this.deps.isClosed()) throw closedError('the client');
    await this.deps.admin().deleteGroup(durableGroup(this.name, subscription));
  }
}
