/**
 * kafkajs clients for the tests that use kafkajs 2.2.4 as an independent
 * Kafka client against a broker: one Kafka config per test file (quiet,
 * short timeouts, a few quick retries), connected admins and producers,
 * consumers, topic creation, and the list of every client opened so the
 * file's afterEach disconnects them (disconnectAll).
 */
import {
  type Admin,
  type Consumer,
  type ConsumerConfig,
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import { expect } from 'vitest';

export interface KafkajsClientsOptions {
  clientId: string;
  /** The broker's Kafka listener, asked each time (the broker starts in beforeAll). */
  brokers: () => string;
  /** kafkajs retries of a failed request (100 ms to 1 s apart). */
  retries: number;
}

export interface KafkajsClients {
  /** A Kafka instance with the file's config (`config` overrides it). */
  kafka(config?: Partial<KafkaConfig>): Kafka;
  /** Remembers `client` so disconnectAll disconnects it. */
  track<C extends { disconnect(): Promise<void> }>(client: C): C;
  /** A connected admin. */
  admin(): Promise<Admin>;
  /** A connected producer with the Java client's murmur2 partitioner (kafkajs 2's default, named so it does not warn). */
  producer(config?: ProducerConfig): Promise<Producer>;
  /** A consumer (not yet connected): heartbeat 500 ms, session 10 s, fetch wait 500 ms unless `config` says otherwise. */
  consumer(config: ConsumerConfig): Consumer;
  /** Creates `topic` (replication factor 1) through the admin client and expects it created, with leaders. */
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Disconnects every client opened since the last call. */
  disconnectAll(): Promise<void>;
}

export function kafkajsClients(options: KafkajsClientsOptions): KafkajsClients {
  const opened: { disconnect(): Promise<void> }[] = [];
  const track = <C extends { disconnect(): Promise<void> }>(client: C): C => {
    opened.push(client);
    return client;
  };
  const kafka = (config: Partial<KafkaConfig> = {}): Kafka =>
    new Kafka({
      clientId: options.clientId,
      brokers: [options.brokers()],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: options.retries, initialRetryTime: 100, maxRetryTime: 1000 },
      ...config,
    });
  const admin = async (): Promise<Admin> => {
    const a = track(kafka().admin());
    await a.connect();
    return a;
  };
  return {
    kafka,
    track,
    admin,
    async producer(config: ProducerConfig = {}): Promise<Producer> {
      const p = track(kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config }));
      await p.connect();
      return p;
    },
    consumer(config: ConsumerConfig): Consumer {
      return track(
        kafka().consumer({ heartbeatInterval: 500, sessionTimeout: 10_000, maxWaitTimeInMs: 500, ...config }),
      );
    },
    async createTopic(topic: string, partitions: number): Promise<void> {
      const a = await admin();
      const created = await a.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      expect(created, `${topic} created`).toBe(true);
    },
    async disconnectAll(): Promise<void> {
      await Promise.allSettled(opened.splice(0).map((c) => c.disconnect()));
    },
  };
}
