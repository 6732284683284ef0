/**
 * Dead-letter decisions of a queue, as plain functions: which queue is a
 * dead-letter queue, where a queue's dead letters go, how many redeliveries
 * it allows, and what a dead letter (and a redriven message) looks like.
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { DlqHeader, deadLetterQueueOf, type QueueMessageInput } from '../protocol/native/queue-messages.js';
import type { DecodedRecord } from '../wire/record.js';

export type DeadLetterReason = 'max-redeliveries' | 'rejected' | 'expired';

/** A queue named DLQ.* or the shared dead-letter queue (`queue.dead.letter.queue`, when set). */
export function isDeadLetterQueue(queue: string, sharedDlq: string): boolean {
  return queue.startsWith('DLQ.') || (sharedDlq !== '' && queue === sharedDlq);
}

/** Where dead letters of `queue` go: the shared dead-letter queue when set, else DLQ.<queue>. */
export function deadLetterQueueFor(queue: string, sharedDlq: string): string {
  return sharedDlq !== '' ? sharedDlq : deadLetterQueueOf(queue);
}

/** How often a message of `queue` is redelivered before it is dead-lettered; -1: never dead-lettered. */
export function maxRedeliveriesFor(queue: string, config: BrokerConfig): number {
  const configured = config.int('queue.max.redeliveries');
  // a dead-letter queue keeps what fails there (ActiveMQ does not dead-letter dead letters)
  return isDeadLetterQueue(queue, config.string('queue.dead.letter.queue')) ? -1 : configured;
}

/** Past 1 + maxRedeliveries deliveries a released message is dead-lettered (maxRedeliveries -1: never). */
export function exceedsRedeliveries(deliveryCount: number, maxRedeliveries: number): boolean {
  return maxRedeliveries >= 0 && deliveryCount > maxRedeliveries;
}

function isDlqHeader(key: string): boolean {
  return Object.values(DlqHeader).includes(key as never);
}

/** The dead letter of a message: its own headers (earlier DLQ headers dropped) plus where, why and how often. */
export function deadLetterMessage(
  record: DecodedRecord,
  from: { queue: string; reason: string; deliveryCount: number; offset: number },
): QueueMessageInput {
  return {
    key: record.key,
    value: record.value,
    headers: [
      ...record.headers.filter((h) => !isDlqHeader(h.key)),
      { key: DlqHeader.originalQueue, value: Buffer.from(from.queue) },
      { key: DlqHeader.reason, value: Buffer.from(from.reason) },
      { key: DlqHeader.deliveryCount, value: Buffer.from(String(from.deliveryCount)) },
      { key: DlqHeader.originalOffset, value: Buffer.from(String(from.offset)) },
    ],
  };
}

/** A dead letter going back to `queue` (its DLQ headers dropped); undefined when it came from another queue. */
export function redriveMessage(record: DecodedRecord, queue: string): QueueMessageInput | undefined {
  const from = record.headers.find((h) => h.key === DlqHeader.originalQueue)?.value?.toString();
  if (from !== queue) return undefined;
  return { key: record.key, value: record.value, headers: record.headers.filter((h) => !isDlqHeader(h.key)) };
}
