/**
 * `sluice.queue(name)`: a JMS-style queue (point-to-point) kept in the log as
 * the internal topic `__queue.<name>`; the broker leading it dispatches each
 * message to one consumer at a time (queue-messages.ts). The broker creates
 * a queue on first use.
 *
 *   await q.send('hello', { key, headers, ttlMs })      // persistent: resolves once the ISR has it
 *   const r = q.receiver({ prefetch: 1 }); await r.receive(1000)    // auto-acknowledged
 *   const c = q.receiver({ ackMode: 'client' }); const m = await c.receive(); await m.ack()
 *   const l = q.listen(async (m) => { ... }, { prefetch: 1 })       // resolve: accepted; throw: redelivered
 *
 * Transactions (sends and acknowledgements committed together) are in session.ts.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { QueueSendRequest } from '../protocol/native/queue-messages.js';
import { queueBatchMessagesMax } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { wasSent } from './connection.js';
import { closedError, invalidArgument } from './errors.js';
import { QueueListener, type QueueMessageHandler, QueueReceiver } from './queue-receiver.js';
import { checkQueueName, messageInput, queueRequest } from './queue-wire.js';
import type {
  QueueListenerOptions,
  QueueReceiverOptions,
  QueueSendInput,
  QueueSendOptions,
  QueueSendResult,
} from './types.js';

/** Receivers and listeners the client closes with itself. */
export interface QueueRegistry {
  isClosed(): boolean;
  add(x: { close(): Promise<void> }): void;
  remove(x: { close(): Promise<void> }): void;
}

/**
 * Sends one QueueSend (messages, and for a transaction its acknowledgements)
 * to the queue's leader; resolves to the first message's offset (-1 for
 * none). Retried after leader moves, but not once the request may have been
 * written (a retry could duplicate the messages).
 */
export async function queueSend(cluster: Cluster, body: QueueSendRequest): Promise<number> {
  const res = await queueRequest(cluster, body.queue, ApiKey.QueueSend, body, `send to queue '${body.queue}'`, {
    retryIf: (err) => !wasSent(err),
    timeoutMs: cluster.requestTimeoutMs + (body.timeoutMs ?? 0),
  });
  return res.baseOffset;
}

export class Queue {
  readonly name: string;

  constructor(
    private readonly cluster: Cluster,
    name: string,
    private readonly registry: QueueRegistry,
  ) {
    this.name = checkQueueName(name);
  }

  /** Sends one message (a string, a Buffer or null); resolves with its offset once every in-sync replica has it. */
  async send(value: string | Buffer | null, options: QueueSendOptions = {}): Promise<QueueSendResult> {
    const [offset] = await this.sendBatch([{ ...options, value }]);
    return offset as QueueSendResult;
  }

  /**
   * Sends messages as one batch, written atomically (all or none), in order;
   * their offsets are consecutive. At most 10,000 per call.
   */
  async sendBatch(messages: QueueSendInput[]): Promise<QueueSendResult[]> {
    if (this.registry.isClosed()) throw closedError('the client');
    if (!Array.isArray(messages) || messages.length === 0) throw invalidArgument('sendBatch() needs messages');
    if (messages.length > queueBatchMessagesMax)
      throw invalidArgument(`at most ${queueBatchMessagesMax} messages per batch, not ${messages.length}`);
    const body: QueueSendRequest = { queue: this.name, messages: messages.map(messageInput) };
    const base = await queueSend(this.cluster, body);
    return messages.map((_, i) => ({ offset: base + i }));
  }

  /** A synchronous consumer (JMS receive()); see queue-receiver.ts for the acknowledgement modes. */
  receiver(options: QueueReceiverOptions = {}): QueueReceiver {
    if (this.registry.isClosed()) throw closedError('the client');
    const r = new QueueReceiver(this.cluster, this.name, options, (x) => this.registry.remove(x));
    this.registry.add(r);
    return r;
  }

  /** An asynchronous consumer (JMS onMessage): `handler` runs for one message at a time. */
  listen(handler: QueueMessageHandler, options: QueueListenerOptions = {}): QueueListener {
    if (this.registry.isClosed()) throw closedError('the client');
    const l = new QueueListener(this.cluster, this.name, handler, options, (x) => this.registry.remove(x));
    this.registry.add(l);
    return l;
  }
}
