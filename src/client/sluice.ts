/**
 * The client: `new Sluice({ brokers, clientId })`. It owns the cluster view
 * (metadata, one connection per broker, reconnection) and hands out
 * producers, consumers and an admin that share it. Events:
 * 'transportInterrupted' ({ broker, error }) when an open connection breaks,
 * 'transportResumed' ({ broker }) when the client is connected again.
 */
import { EventEmitter } from 'node:events';
import {
  clientConnectTimeoutMsDefault,
  clientInFlightRequestsDefault,
  clientInFlightRequestsMax,
  clientRequestTimeoutMsDefault,
  clientRetriesDefault,
  clientRetriesMax,
  clientRetryBackoffMsDefault,
  clientRetryBackoffMsMax,
} from '../shared/limits.js';
import { Admin } from './admin.js';
import { parseBrokers } from './brokers.js';
import { Cluster } from './cluster.js';
import { Consumer } from './consumer.js';
import { closedError, invalidArgument } from './errors.js';
import { Producer } from './producer.js';
import type {
  ConsumerOptions,
  ProducerOptions,
  SluiceOptions,
  TransportInterruptedEvent,
  TransportResumedEvent,
} from './types.js';

export interface SluiceEvents {
  transportInterrupted: [TransportInterruptedEvent];
  transportResumed: [TransportResumedEvent];
}

function bounded(name: string, value: number | undefined, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer in ${min}..${max}, not ${value}`);
  }
  return value;
}

export class Sluice extends EventEmitter<SluiceEvents> {
  readonly clientId: string;
  private readonly cluster: Cluster;
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private closed = false;

  constructor(options: SluiceOptions = {}) {
    super();
    this.clientId = options.clientId ?? 'sluice';
    if (typeof this.clientId !== 'string') throw invalidArgument('clientId must be a string');
    this.cluster = new Cluster({
      brokers: parseBrokers(options.brokers),
      clientId: this.clientId,
      connectTimeoutMs: bounded(
        'connectTimeoutMs',
        options.connectTimeoutMs,
        clientConnectTimeoutMsDefault,
        1,
        600_000,
      ),
      requestTimeoutMs: bounded(
        'requestTimeoutMs',
        options.requestTimeoutMs,
        clientRequestTimeoutMsDefault,
        1,
        3_600_000,
      ),
      maxInFlight: bounded(
        'maxInFlightRequests',
        options.maxInFlightRequests,
        clientInFlightRequestsDefault,
        1,
        clientInFlightRequestsMax,
      ),
      retries: bounded('retries', options.retries, clientRetriesDefault, 0, clientRetriesMax),
      retryBackoffMs: bounded(
        'retryBackoffMs',
        options.retryBackoffMs,
        clientRetryBackoffMsDefault,
        0,
        clientRetryBackoffMsMax,
      ),
      emit: (event, payload) => {
        this.emit(event as keyof SluiceEvents, payload as TransportInterruptedEvent);
      },
    });
  }

  admin(): Admin {
    if (this.closed) throw closedError('the client');
    return new Admin(this.cluster);
  }

  producer(options: ProducerOptions = {}): Producer {
    if (this.closed) throw closedError('the client');
    const p = new Producer(this.cluster, options, (x) => this.producers.delete(x));
    this.producers.add(p);
    return p;
  }

  consumer(options: ConsumerOptions = {}): Consumer {
    if (this.closed) throw closedError('the client');
    const c = new Consumer(this.cluster, options, (x) => this.consumers.delete(x));
    this.consumers.add(c);
    return c;
  }

  /** Stops consumers, flushes and closes producers, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    await Promise.allSettled([...this.producers].map((p) => p.close()));
    await this.cluster.close();
  }
}
