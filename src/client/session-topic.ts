/**
 * A topic as seen from a transacted session (issue 21): publish() buffers
 * until session.commit(), which writes the publishes as transactional
 * batches of the session's producer in the same Kafka transaction as the
 * session's queue sends (session-txn.ts): subscribers reading committed
 * messages (every JmsTopic subscription does) see them all at once at the
 * commit, or never after rollback() or a crash. subscriber({ durable })
 * receives within the session: the commit acknowledges what it received.
 */
import type { QueueMessageInput } from '../protocol/native/queue-messages.js';
import { checkTopicName } from './jms-topic.js';
import { messageInput } from './queue-wire.js';
import type { SessionSubscriber } from './session-subscriber.js';
import type { ProducerMessage, SessionSubscriberOptions, TopicPublishOptions } from './types.js';

/** The session's side of a SessionTopic (Session implements it). */
export interface TopicPublishBuffer {
  bufferPublish(topic: string, message: QueueMessageInput): Promise<void>;
  subscriberFor(topic: string, options: SessionSubscriberOptions): SessionSubscriber;
}

/** A buffered publish as the producer sends it (key, value and headers already checked and converted). */
export function producerMessageOf(m: QueueMessageInput): ProducerMessage {
  const out: ProducerMessage = { value: m.value ?? null };
  if (m.key) out.key = m.key;
  if (m.headers) out.headers = m.headers.map((h) => ({ key: h.key, value: h.value }));
  return out;
}

export class SessionTopic {
  readonly name: string;

  constructor(
    private readonly session: TopicPublishBuffer,
    name: string,
  ) {
    this.name = checkTopicName(name);
  }

  /** Buffers a message until commit() (dropped by rollback()); resolves at once. */
  publish(value: string | Buffer | null, options: TopicPublishOptions = {}): Promise<void> {
    let m: QueueMessageInput;
    try {
      m = messageInput({ value, key: options.key, headers: options.headers });
    } catch (err) {
      return Promise.reject(err);
    }
    return this.session.bufferPublish(this.name, m);
  }

  /**
   * A durable subscriber whose messages the session's commit acknowledges
   * (session-subscriber.ts); one per durable name and session.
   */
  subscriber(options: SessionSubscriberOptions): SessionSubscriber {
    return this.session.subscriberFor(this.name, options);
  }
}
