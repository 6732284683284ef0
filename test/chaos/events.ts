/**
 * The JSON lines the chaos suite's processes write (one object per line),
 * shared by the workers that write them and the checker that reads them.
 * A record's value names its producer and sequence number ("n1:42"), so any
 * reader can tell which acknowledgement a stored record answers.
 */

/** One acknowledged (or definitively failed) record of a log producer. */
export interface ProducerEvent {
  ev: 'ack' | 'fail';
  /** Milliseconds since the epoch when the producer learnt the outcome. */
  t: number;
  producer: string;
  seq: number;
  partition: number;
  /** The acknowledged offset ('ack' only). */
  offset?: number;
  error?: string;
}

/** A record as read back from the log after healing (or delivered to the group). */
export interface LogRecord {
  partition: number;
  offset: number;
  value: string | null;
}

/** One delivery to the consumer group. */
export interface GroupDelivery extends LogRecord {
  t: number;
}

/**
 * What the queue worker logs. `id` is the message value ("q17"); an in→out
 * copy keeps its id. `offset` is the message's offset in its queue: one
 * message is one (queue, offset) — a send retried after a lost answer may
 * store a second copy of an id at another offset, which is a duplicate, not
 * a redelivery.
 */
export type QueueEvent =
  | { ev: 'send'; t: number; queue: string; id: string; offset: number }
  | { ev: 'send-fail'; t: number; queue: string; id: string; error: string }
  | {
      ev: 'deliver';
      t: number;
      queue: string;
      id: string;
      offset: number;
      via: string;
      count: number;
      redelivered: boolean;
    }
  | { ev: 'ack'; t: number; queue: string; id: string; offset: number; via: string }
  | { ev: 'ack-fail'; t: number; queue: string; id: string; offset: number; via: string; error: string }
  | { ev: 'release'; t: number; queue: string; id: string; offset: number; via: string }
  /** A transacted session's commit succeeded: `acked` (received from `from`, at `ackedOffsets`) and `sent` (to `to`). */
  | { ev: 'commit'; t: number; from: string; to: string; acked: string[]; ackedOffsets: number[]; sent: string[] }
  | { ev: 'rollback'; t: number; from: string; to: string; ids: string[]; error: string }
  /**
   * After the load: a message still in a queue (dlq false; `offset` its offset there) or in a
   * dead-letter queue (dlq true, queue = the original, `offset` its offset in the DLQ).
   */
  | { ev: 'remaining'; t: number; queue: string; id: string; offset: number; dlq: boolean; deliveryCount: number };

/** The value a log producer writes for sequence number `seq`. */
export const recordValue = (producer: string, seq: number): string => `${producer}:${seq}`;

/** The producer and sequence number a value names, or undefined for a value no chaos producer wrote. */
export function parseValue(value: string | null): { producer: string; seq: number } | undefined {
  if (value === null) return undefined;
  const colon = value.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seq = Number(value.slice(colon + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { producer: value.slice(0, colon), seq };
}
