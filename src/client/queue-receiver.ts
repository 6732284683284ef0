/**
 * Receivers and listeners of a queue (JMS MessageConsumer, synchronous and
 * asynchronous), both on a QueueConsumer (queue-consumer.ts).
 *
 * QueueReceiver.receive(timeoutMs) hands over one message or null on
 * timeout. With ackMode 'auto' (the default) a message is accepted as it is
 * handed over (JMS AUTO_ACKNOWLEDGE: should this process die right after, it
 * may be delivered again); with 'client' the caller settles each message:
 * ack() done, release() (alias nack()) back to the queue for redelivery
 * (counting towards queue.max.redeliveries), reject() to the dead-letter
 * queue at once. Unsettled messages count against the prefetch: a client-ack
 * receiver that holds `prefetch` of them gets nothing more until it settles.
 *
 * QueueListener (JMS onMessage) runs `handler` for one message at a time, in
 * the order received: when the handler resolves the message is accepted;
 * when it throws or rejects the message is released, so the broker
 * redelivers it and, past queue.max.redeliveries, dead-letters it. A handler
 * may settle the message itself (e.g. reject() a poison message); then
 * nothing more is done with it.
 */
import type { Cluster } from './cluster.js';
import { invalidArgument } from './errors.js';
import { QueueConsumer } from './queue-consumer.js';
import type { QueueListenerOptions, QueueMessage, QueueReceiverOptions } from './types.js';

export class QueueReceiver {
  private readonly consumer: QueueConsumer;

  constructor(
    cluster: Cluster,
    readonly queue: string,
    options: QueueReceiverOptions,
    private readonly onClose: (r: QueueReceiver) => void,
  ) {
    this.consumer = new QueueConsumer(cluster, queue, {
      prefetch: options.prefetch,
      ackMode: options.ackMode ?? 'auto',
      lockTimeoutMs: options.lockTimeoutMs,
      maxWaitMs: options.maxWaitMs,
    });
  }

  get ackMode(): 'auto' | 'client' {
    return this.consumer.ackMode;
  }

  get prefetch(): number {
    return this.consumer.prefetch;
  }

  /** The consumer id the broker knows this receiver by now (a new one after a lost connection). */
  get consumerId(): string {
    return this.consumer.consumerId;
  }

  /**
   * The next message, waiting up to `timeoutMs` (omitted: until one comes or
   * the receiver closes; 0: only one already buffered). Null on timeout and
   * once closed.
   */
  receive(timeoutMs?: number): Promise<QueueMessage | null> {
    return this.consumer.receive(timeoutMs);
  }

  /** Leaves the queue: unsettled and buffered messages go back to it at once. */
  async close(): Promise<void> {
    await this.consumer.close();
    this.onClose(this);
  }
}

export type QueueMessageHandler = (message: QueueMessage) => unknown;

export class QueueListener {
  private readonly consumer: QueueConsumer;
  private readonly running: Promise<void>;
  private stopped = false;
  private handledCount = 0;
  private failedCount = 0;

  constructor(
    cluster: Cluster,
    readonly queue: string,
    private readonly handler: QueueMessageHandler,
    private readonly options: QueueListenerOptions,
    private readonly onClose: (l: QueueListener) => void,
  ) {
    if (typeof handler !== 'function') throw invalidArgument('listen() needs a handler function');
    this.consumer = new QueueConsumer(cluster, queue, {
      prefetch: options.prefetch,
      ackMode: 'client',
      lockTimeoutMs: options.lockTimeoutMs,
      maxWaitMs: options.maxWaitMs,
    });
    this.running = this.run();
  }

  /** Messages whose handler resolved / threw so far. */
  get handled(): number {
    return this.handledCount;
  }

  get failed(): number {
    return this.failedCount;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let message: QueueMessage | null;
      try {
        message = await this.consumer.receive();
      } catch (err) {
        // not retriable (e.g. refused by the broker): the listener stops
        this.options.onError?.(err, null);
        return;
      }
      if (!message) continue;
      const epoch = this.consumer.currentEpoch;
      try {
        await this.handler(message);
        this.handledCount++;
        if (this.consumer.isUnsettled(message, epoch)) message.ack().catch(() => undefined);
      } catch (err) {
        this.failedCount++;
        if (this.consumer.isUnsettled(message, epoch)) message.release().catch(() => undefined);
        try {
          this.options.onError?.(err, message);
        } catch {
          // an onError that throws changes nothing
        }
      }
    }
  }

  /** Stops after the running handler (if any) finishes, then leaves the queue (buffered messages go back). */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // the running handler finishes and settles its message first; a receive() waiting returns null
    this.consumer.interrupt();
    await this.running;
    await this.consumer.close();
    this.onClose(this);
  }
}
