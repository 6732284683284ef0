/**
 * The well-behaved clients that run beside the fuzzer on the same broker:
 * two native producers (acks -1 idempotent, and acks 1), each with one send
 * in flight (overlapping sends on one partition are issue 14's defect 1, not
 * this run's subject), whose values carry a producer name and sequence
 * number; and a consumer reading the topic live. At the end a fresh consumer
 * reads the topic back from the start for the ledger check (verdict.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Sluice } from '../../src/client/sluice.js';
import type { Acknowledged, ReadBack } from './verdict.js';

export const wellBehavedTopic = 'wellbehaved';
export const wellBehavedPartitions = 3;
/** Sends per producer at most: bounds the ledger however long the fuzz runs. */
const sendsPerProducerMax = 1_000_000;
const errorBackoffMs = 100;
const readBackMs = 60_000;
const stopWaitMs = 20_000;

export interface WellBehavedStats {
  acked: Acknowledged[];
  ackedByAcks: Record<string, number>;
  sendErrors: number;
  lastSendError: string;
  consumedLive: number;
  consumeErrors: number;
}

export class WellBehaved {
  readonly stats: WellBehavedStats = {
    acked: [],
    ackedByAcks: { '-1': 0, '1': 0 },
    sendErrors: 0,
    lastSendError: '',
    consumedLive: 0,
    consumeErrors: 0,
  };
  private stopping = false;
  private running: Promise<unknown> | undefined;
  private readonly client: Sluice;

  constructor(brokerAddress: string) {
    this.client = new Sluice({ brokers: [brokerAddress], clientId: 'fuzz-well-behaved', requestTimeoutMs: 30_000 });
  }

  async createTopic(): Promise<void> {
    await this.client.admin().createTopic({ topic: wellBehavedTopic, partitions: wellBehavedPartitions });
  }

  start(): void {
    this.running = Promise.all([this.produce(-1), this.produce(1), this.consume()]);
  }

  private async produce(acks: -1 | 1): Promise<void> {
    const producer = this.client.producer({ acks, idempotent: acks === -1 });
    const name = acks === -1 ? 'all' : 'one';
    try {
      for (let seq = 0; seq < sendsPerProducerMax && !this.stopping; seq++) {
        const value = `wb-${name}-${seq}`;
        try {
          const [meta] = await producer.send({
            topic: wellBehavedTopic,
            messages: [{ value, partition: seq % wellBehavedPartitions }],
          });
          if (meta) {
            this.stats.acked.push({ value, partition: meta.partition, offset: meta.offset });
            this.stats.ackedByAcks[String(acks)] = (this.stats.ackedByAcks[String(acks)] ?? 0) + 1;
          }
        } catch (err) {
          this.stats.sendErrors++;
          this.stats.lastSendError = (err as Error).message;
          await sleep(errorBackoffMs);
        }
      }
    } finally {
      await producer.close().catch(() => undefined);
    }
  }

  private async consume(): Promise<void> {
    const consumer = this.client.consumer({ maxWaitMs: 200 });
    try {
      consumer.assign(
        Array.from({ length: wellBehavedPartitions }, (_, partition) => ({
          topic: wellBehavedTopic,
          partition,
          offset: 'earliest' as const,
        })),
      );
      while (!this.stopping) {
        try {
          this.stats.consumedLive += (await consumer.poll({ maxRecords: 1000 })).length;
        } catch {
          this.stats.consumeErrors++;
          await sleep(errorBackoffMs);
        }
      }
    } finally {
      await consumer.close().catch(() => undefined);
    }
  }

  /**
   * Stops producing and consuming: waits for the sends in flight, at most
   * stopWaitMs (a send to a dead broker retries for longer), then closes the client.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.running?.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), stopWaitMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) await this.client.close().catch(() => undefined);
  }

  /** Every record of the topic, read from the start by a fresh consumer (bounded by readBackMs). */
  async readBack(): Promise<ReadBack[]> {
    const described = await this.client.admin().describeTopic(wellBehavedTopic);
    const stored = described.partitions.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0);
    const consumer = this.client.consumer({ maxWaitMs: 200 });
    const out: ReadBack[] = [];
    try {
      consumer.assign(
        Array.from({ length: wellBehavedPartitions }, (_, partition) => ({
          topic: wellBehavedTopic,
          partition,
          offset: 'earliest' as const,
        })),
      );
      const deadline = Date.now() + readBackMs;
      while (out.length < stored && Date.now() < deadline) {
        for (const r of await consumer.poll({ maxRecords: 10_000 })) {
          out.push({ value: r.value?.toString('utf8') ?? '', partition: r.partition, offset: r.offset });
        }
      }
    } finally {
      await consumer.close().catch(() => undefined);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }
}
