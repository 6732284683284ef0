/**
 * A fake cluster for the producer's unit tests: `brokers` scripted native
 * peers on real loopback sockets (fake-native-broker.ts) that answer
 * Metadata from a leader table the test can change, InitProducerId with
 * fresh producer ids, and Produce by appending each batch's records to an
 * in-memory log per partition. Idempotent batches are checked as Kafka's
 * broker does: a batch already appended (same producer id, epoch and base
 * sequence) is answered with its original offset and not appended again; a
 * gap in sequence numbers is OUT_OF_ORDER_SEQUENCE_NUMBER. `fault` may
 * answer a batch with an error, hold its answer, or break the connection.
 */
import type net from 'node:net';
import { parseBrokers } from '../../src/client/brokers.js';
import { Cluster } from '../../src/client/cluster.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { WireError } from '../../src/shared/errors.js';
import {
  attributesOf,
  baseSequenceOf,
  producerEpochOf,
  producerIdOf,
  recordsCountOf,
  transactionalFlag,
} from '../../src/wire/record-batch.js';
import { decodeBatchRecords } from '../../src/wire/record-batch-decoder.js';
import { type AnyBody, type FakeNativeBroker, fakeNativeBroker } from './fake-native-broker.js';

/** One batch as it arrived at a broker. */
export interface ArrivedBatch {
  node: number;
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  values: string[];
  /** Bytes of the encoded batch. */
  bytes: number;
  /** The batch's transactional attribute bit (issue 21). */
  transactional: boolean;
}

/**
 * What to do with an arrived batch instead of appending it and answering: answer an error, break
 * the connection (nothing appended), append and then break the connection (the answer is lost),
 * or hold the answer until release().
 */
export type Fault = { errorCode: number } | 'break' | 'appendThenBreak' | 'hold' | undefined;

interface Appended {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  baseOffset: number;
}

export interface FakeProduceCluster {
  /** Leader node of "topic-partition" (default 0). */
  leaders: Map<string, number>;
  /** Each partition's log: record values in offset order. */
  logs: Map<string, string[]>;
  arrived: ArrivedBatch[];
  /** Produce requests received, per node. */
  requests: number[];
  initProducerIds: number;
  fault: (b: ArrivedBatch) => Fault;
  /** Called per Metadata request: 'break' closes its connection unanswered (the request was written). */
  metadataFault: () => 'break' | undefined;
  /**
   * Answers the requests of other keys (the transaction APIs, FindCoordinator, a transactional
   * InitProducerId); undefined: the default (InitProducerId answered as above, others unanswered).
   */
  extra: (node: number, apiKey: number, body: AnyBody) => unknown;
  /** The loopback port of fake broker `node` (for FindCoordinator answers). */
  port(node: number): number;
  /** A fresh client Cluster on the fake brokers (closed by close()). */
  cluster(options?: { retries?: number; retryBackoffMs?: number; maxInFlight?: number }): Cluster;
  /** Answers every held batch now (appending it). */
  release(): void;
  close(): Promise<void>;
}

const key = (topic: string, partition: number): string => `${topic}-${partition}`;

export async function fakeProduceCluster(topics: Record<string, number>, brokerCount = 1): Promise<FakeProduceCluster> {
  const brokers: FakeNativeBroker[] = [];
  const clusters: Cluster[] = [];
  const appended = new Map<string, Appended[]>();
  const held: (() => void)[] = [];
  let nextProducerId = 1000;

  const append = (b: ArrivedBatch): { errorCode: number; baseOffset: number } => {
    const k = key(b.topic, b.partition);
    const log = fake.logs.get(k) ?? [];
    fake.logs.set(k, log);
    const seen = appended.get(k) ?? [];
    appended.set(k, seen);
    if (b.producerId >= 0) {
      const mine = seen.filter((a) => a.producerId === b.producerId && a.producerEpoch === b.producerEpoch);
      const dup = mine.find((a) => a.baseSequence === b.baseSequence);
      if (dup) return { errorCode: 0, baseOffset: dup.baseOffset };
      const last = mine.at(-1);
      const expected = last ? last.baseSequence + (fake.arrivedCount.get(last) ?? 0) : 0;
      if (b.baseSequence !== expected) return { errorCode: WireError.OUT_OF_ORDER_SEQUENCE_NUMBER, baseOffset: -1 };
    }
    const entry: Appended = {
      producerId: b.producerId,
      producerEpoch: b.producerEpoch,
      baseSequence: b.baseSequence,
      baseOffset: log.length,
    };
    fake.arrivedCount.set(entry, b.values.length);
    seen.push(entry);
    log.push(...b.values);
    return { errorCode: 0, baseOffset: entry.baseOffset };
  };

  const handler = async (node: number, apiKey: number, body: AnyBody, socket: net.Socket): Promise<unknown> => {
    if (apiKey !== ApiKey.Metadata && apiKey !== ApiKey.Produce) {
      const answer = await fake.extra(node, apiKey, body);
      if (answer !== undefined) return answer;
    }
    switch (apiKey) {
      case ApiKey.Metadata:
        if (fake.metadataFault() === 'break') {
          socket.destroy();
          return undefined;
        }
        return {
          errorCode: 0,
          controllerId: 0,
          brokers: brokers.map((b, nodeId) => ({ nodeId, host: '127.0.0.1', port: b.port })),
          topics: Object.entries(topics).map(([name, count]) => ({
            name,
            errorCode: 0,
            partitions: Array.from({ length: count }, (_, partition) => {
              const leader = fake.leaders.get(key(name, partition)) ?? 0;
              return { partition, errorCode: 0, leader, leaderEpoch: 0, replicas: [leader], isr: [leader] };
            }),
          })),
        };
      case ApiKey.InitProducerId:
        fake.initProducerIds++;
        return { errorCode: 0, producerId: nextProducerId++, producerEpoch: 0 };
      case ApiKey.Produce: {
        fake.requests[node] = (fake.requests[node] ?? 0) + 1;
        const answers: Promise<{ name: string; partitions: AnyBody[] }>[] = [];
        let broken = false;
        for (const t of body.topics as AnyBody[]) {
          const parts: Promise<AnyBody>[] = [];
          for (const p of t.partitions as AnyBody[]) {
            const buf = Buffer.from(p.records);
            const b: ArrivedBatch = {
              node,
              topic: t.name,
              partition: p.partition,
              producerId: producerIdOf(buf),
              producerEpoch: producerEpochOf(buf),
              baseSequence: baseSequenceOf(buf),
              values: decodeBatchRecords(buf).map((r) => r.value?.toString() ?? ''),
              bytes: buf.length,
              transactional: (attributesOf(buf) & transactionalFlag) !== 0,
            };
            if (recordsCountOf(buf) !== b.values.length) throw new Error('bad batch');
            fake.arrived.push(b);
            const fault = fake.fault(b);
            const answer = (): AnyBody => {
              if ((fake.leaders.get(key(b.topic, b.partition)) ?? 0) !== node) {
                return { partition: b.partition, errorCode: WireError.NOT_LEADER_OR_FOLLOWER, baseOffset: -1 };
              }
              return { partition: b.partition, ...append(b) };
            };
            if (fault === 'break') broken = true;
            else if (fault === 'appendThenBreak') {
              answer();
              broken = true;
            } else if (fault === 'hold') parts.push(new Promise((resolve) => held.push(() => resolve(answer()))));
            else if (fault)
              parts.push(Promise.resolve({ partition: b.partition, errorCode: fault.errorCode, baseOffset: -1 }));
            else parts.push(Promise.resolve(answer()));
          }
          answers.push(Promise.all(parts).then((partitions) => ({ name: t.name, partitions })));
        }
        if (broken) {
          socket.destroy();
          return undefined;
        }
        if (body.acks === 0) return undefined;
        return { errorCode: 0, topics: await Promise.all(answers) };
      }
      default:
        return undefined;
    }
  };

  const fake: FakeProduceCluster & { arrivedCount: Map<Appended, number> } = {
    leaders: new Map(),
    logs: new Map(),
    arrived: [],
    requests: [],
    initProducerIds: 0,
    arrivedCount: new Map(),
    fault: () => undefined,
    metadataFault: () => undefined,
    extra: () => undefined,
    port: (node) => (brokers[node] as FakeNativeBroker).port,
    cluster(options = {}) {
      const c = new Cluster({
        brokers: parseBrokers(brokers.map((b) => `127.0.0.1:${b.port}`).join(',')),
        clientId: 'producer-test',
        connectTimeoutMs: 2000,
        requestTimeoutMs: 5000,
        maxInFlight: options.maxInFlight ?? 5,
        retries: options.retries ?? 3,
        retryBackoffMs: options.retryBackoffMs ?? 5,
        emit: () => undefined,
      });
      clusters.push(c);
      return c;
    },
    release() {
      for (const r of held.splice(0)) r();
    },
    async close() {
      for (const c of clusters.splice(0)) await c.close();
      for (const b of brokers.splice(0)) await b.close();
    },
  };
  for (let node = 0; node < brokerCount; node++) {
    brokers.push(await fakeNativeBroker((apiKey, body, _port, socket) => handler(node, apiKey, body, socket)));
  }
  return fake;
}
