/**
 * The client: `new Sluice({ brokers, clientId })`. It owns the cluster view
 * (metadata, one connection per broker, reconnection) and hands out
 * producers, consumers, an admin, and the JMS-style queues, topics and
 * transacted sessions (queue.ts, jms-topic.ts, session.ts) that share it. Events:
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
import { JmsTopic, type TopicSubscription } from './jms-topic.js';
import { boundedInt } from './options.js';
import { Producer } from './producer.js';
import { Queue, type QueueRegistry } from './queue.js';
import { checkSaslOptions } from './sasl-authenticator.js';
import { Session } from './session.js';
import { type TlsConnectOptions, tlsOptionsOf } from './tls.js';
import type {
  ClientSaslOptions,
  ConsumerOptions,
  ProducerOptions,
  SessionOptions,
  SluiceOptions,
  TransportInterruptedEvent,
  TransportResumedEvent,
} from './types.js';

/** The cluster's `tls` field for the `ssl` option (none for plaintext). */
function tlsOption(ssl: SluiceOptions['ssl']): { tls?: TlsConnectOptions } {
  const tls = tlsOptionsOf(ssl);
  return tls ? { tls } : {};
}

/** The sasl option checked (a typo in the mechanism fails here, not at the first connection), copied. */
function saslOptions(sasl: ClientSaslOptions): ClientSaslOptions {
  checkSaslOptions(sasl);
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
}

export interface SluiceEvents {
  transportInterrupted: [TransportInterruptedEvent];
  transportResumed: [TransportResumedEvent];
}

export class Sluice extends EventEmitter<SluiceEvents> {
  readonly clientId: string;
  private readonly cluster: Cluster;
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  /** Queue receivers and listeners, sessions and topic subscriptions: closed before the rest. */
  private readonly messaging = new Set<{ close(): Promise<void> }>();
  private topicProducer: Producer | null = null;
  private readonly registry: QueueRegistry;
  private closed = false;

  constructor(options: SluiceOptions = {}) {
    super();
    this.clientId = options.clientId ?? 'sluice';
    if (typeof this.clientId !== 'string') throw invalidArgument('clientId must be a string');
    this.cluster = new Cluster({
      brokers: parseBrokers(options.brokers),
      clientId: this.clientId,
      connectTimeoutMs: boundedInt(
        'connectTimeoutMs',
        options.connectTimeoutMs,
        1,
        600_000,
        clientConnectTimeoutMsDefault,
      ),
      requestTimeoutMs: boundedInt(
        'requestTimeoutMs',
        options.requestTimeoutMs,
        1,
        3_600_000,
        clientRequestTimeoutMsDefault,
      ),
      maxInFlight: boundedInt(
        'maxInFlightRequests',
        options.maxInFlightRequests,
        1,
        clientInFlightRequestsMax,
        clientInFlightRequestsDefault,
      ),
      retries: boundedInt('retries', options.retries, 0, clientRetriesMax, clientRetriesDefault),
      retryBackoffMs: boundedInt(
        'retryBackoffMs',
        options.retryBackoffMs,
        0,
        clientRetryBackoffMsMax,
        clientRetryBackoffMsDefault,
      ),
      ...tlsOption(options.ssl),
      emit: (event, payload) => {
        this.emit(event as keyof SluiceEvents, payload as TransportInterruptedEvent);
      },
      ...(options.sasl ? { sasl: saslOptions(options.sasl) } : {}),
    });
    this.registry = {
      isClosed: () => this.closed,
      add: (x) => this.messaging.add(x),
      remove: (x) => this.messaging.delete(x),
    };
  }

  /** A JMS-style queue (created by the broker on first use); see queue.ts. */
  queue(name: string): Queue {
    if (this.closed) throw closedError('the client');
    return new Queue(this.cluster, name, this.registry);
  }

  /** A JMS-style topic on the Sluice topic `name` (created on first use); see jms-topic.ts. */
  topic(name: string): JmsTopic {
    if (this.closed) throw closedError('the client');
    return new JmsTopic(name, {
      cluster: this.cluster,
      producer: () => {
        this.topicProducer ??= this.producer({ acks: -1 });
        return this.topicProducer;
      },
      consumer: (options) => this.consumer(options),
      admin: () => this.admin(),
      isClosed: () => this.closed,
      track: (s: TopicSubscription) => this.messaging.add(s),
      untrack: (s: TopicSubscription) => this.messaging.delete(s),
    });
  }

  /** A transacted session: queue sends, topic publishes and acknowledgements committed together; see session.ts. */
  session(options: SessionOptions = { transacted: true }): Session {
    if (this.closed) throw closedError('the client');
    const s = new Session(this.cluster, options, (x) => this.messaging.delete(x));
    this.messaging.add(s);
    return s;
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

  /** Closes queue receivers, listeners, sessions and subscriptions, stops consumers, flushes and closes producers, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.messaging].map((x) => x.close()));
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    await Promise.allSettled([...this.producers].map((p) => p.close()));
    await this.cluster.close();
  }
}
