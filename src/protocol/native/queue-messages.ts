/**
 * Native request and response bodies of JMS-style queues (Kafka's share
 * groups, KIP-932, in spirit). A queue NAME is stored as the internal topic
 * `__queue.NAME` with one partition; its messages are records of that log and
 * its acknowledgement state is kept as state records in the same log, so both
 * are replicated and fail over together. The queue's dispatcher runs on the
 * leader of that partition: every queue request goes there (any other broker
 * answers NOT_LEADER_OR_FOLLOWER, after creating the queue when it is
 * missing, so a client refreshes metadata and retries at the leader).
 *
 * Their API keys (ApiKey.QueueSend ... QueueAdmin) are outside Kafka's range.
 */
import type { ErrorFields } from './messages.js';
import type * as shapes from './request-shapes.js';
import type { Infer } from './shape.js';

/** The internal topic holding queue NAME. */
export const queueTopicPrefix = '__queue.';
export const queueTopic = (queue: string): string => `${queueTopicPrefix}${queue}`;
/** The dead-letter queue of queue NAME when no shared one is configured. */
export const deadLetterQueueOf = (queue: string): string => `DLQ.${queue}`;

/** Headers the broker stamps on a dead letter. */
export const DlqHeader = {
  /** The queue the message was dead-lettered from. */
  originalQueue: 'sluice.dlq.original.queue',
  /** Why: 'max-redeliveries', 'rejected' or 'expired'. */
  reason: 'sluice.dlq.reason',
  /** Deliveries before it was dead-lettered. */
  deliveryCount: 'sluice.dlq.delivery.count',
  /** Its offset in the original queue. */
  originalOffset: 'sluice.dlq.original.offset',
} as const;

/** Header carrying a message's expiry (ms since the epoch, decimal text) when sent with a TTL. */
export const expirationHeader = 'sluice.expiration';

export interface QueueHeader {
  key: string;
  value: Buffer | null;
}

export interface QueueMessageInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: QueueHeader[];
  /** Time to live in ms: an expired message is never delivered (dropped or dead-lettered). */
  ttlMs?: number;
}

export interface QueueDelivery {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: QueueHeader[];
  timestamp: number;
  /** 1 on the first delivery; JMS's JMSXDeliveryCount. */
  deliveryCount: number;
}

/**
 * accept: done. release: delivered and not processed (nack): redelivered, counts towards the DLQ.
 * reject: dead-letter at once. return: fetched but never handed to the application (a receiver
 * closing with prefetched messages): back to the queue without counting a delivery.
 */
export type QueueAckType = 'accept' | 'release' | 'reject' | 'return';

// QueueSend: messages (and, for a transaction's commit, acknowledgements) written atomically as one batch.
/** acks: acknowledgements committed with the messages (a transacted session); the consumer must hold them. */
export type QueueSendRequest = Infer<typeof shapes.queueSendRequest>;
export interface QueueSendResponse extends ErrorFields {
  /** Offset of the first message (-1 when none were sent). */
  baseOffset: number;
}

// QueueFetch: acquire up to maxMessages available messages for one consumer (long-polled).
/**
 * consumerId: chosen by the client, unique per receiver, bound to the connection it first fetched on.
 * prefetch: the broker never lets the receiver hold more unacknowledged messages. lockTimeoutMs: an
 * unacknowledged message returns to the queue after this long (default queue.lock.timeout.ms).
 * returned: offsets an earlier consumer of this client fetched and dropped without handing them to
 * the application (its connection was lost or the queue moved): those deliveries are not counted
 * (nor towards the DLQ); each reported once.
 */
export type QueueFetchRequest = Infer<typeof shapes.queueFetchRequest>;
export interface QueueFetchResponse extends ErrorFields {
  messages: QueueDelivery[];
}

// QueueAck: see QueueAckType.
export type QueueAckRequest = Infer<typeof shapes.queueAckRequest>;
export interface QueueAckResponse extends ErrorFields {
  /** Per offset, 0 or an error (e.g. INVALID_REQUEST when the consumer does not hold it). */
  results: { offset: number; errorCode: number; errorMessage?: string }[];
}

// QueueLeave: the consumer is done; what it holds goes back to the queue at once.
export type QueueLeaveRequest = Infer<typeof shapes.queueLeaveRequest>;
export type QueueLeaveResponse = ErrorFields;

// QueueAdmin
export type QueueAdminOp = 'stats' | 'browse' | 'purge' | 'redrive' | 'list';
/** queue: required except for 'list' (for 'redrive' the queue whose dead letters go back); maxMessages: browse (default 100); dlq: redrive between brokers. */
export type QueueAdminRequest = Infer<typeof shapes.queueAdminRequest>;
export interface QueueStats {
  queue: string;
  /** Messages not yet acknowledged (available + in flight). */
  depth: number;
  inFlight: number;
  consumers: number;
  enqueued: number;
  dequeued: number;
  deadLettered: number;
}
export interface QueueAdminResponse extends ErrorFields {
  /** stats: one entry; list: every queue this broker leads. */
  stats?: QueueStats[];
  /** browse: the messages waiting (not acknowledged), oldest first, without acquiring them. */
  messages?: QueueDelivery[];
  /** purge: messages removed; redrive: messages moved back. */
  count?: number;
}
