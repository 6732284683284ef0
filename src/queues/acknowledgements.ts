/**
 * What an acknowledgement does to held entries: accept (done), release
 * (redelivered after a back-off, the delivery counted; past
 * 1 + queue.max.redeliveries deliveries dead-lettered instead, as ActiveMQ
 * does), return (fetched but never handed to the application: available again
 * at once, the delivery not counted) or reject (dead-lettered).
 */
import type { BrokerConfig } from '../config/broker-config.js';
import type { QueueAckType } from '../protocol/native/queue-messages.js';
import type { SluiceError } from '../shared/errors.js';
import { exceedsRedeliveries } from './dead-letters.js';
import type { DeliveryOrder } from './delivery.js';
import { detach, type Entry } from './queue-entry.js';

/** `base` multiplied by `multiplier` per earlier redelivery (at most 30 times), capped at `max`. */
export function backoffDelay(base: number, multiplier: number, max: number, deliveries: number): number {
  if (base === 0) return 0;
  const delay = base * multiplier ** Math.max(0, Math.min(deliveries - 1, 30));
  return Math.min(delay, max);
}

/** queue.redelivery.delay.ms, multiplied by the back-off multiplier per earlier redelivery, capped. */
export function redeliveryDelay(config: BrokerConfig, deliveries: number): number {
  return backoffDelay(
    config.int('queue.redelivery.delay.ms'),
    config.int('queue.redelivery.backoff.multiplier'),
    config.int('queue.redelivery.delay.max.ms'),
    deliveries,
  );
}

export interface SortedAcks {
  accepted: Entry[];
  released: Entry[];
  rejected: Entry[];
  returned: Entry[];
  /** Per offset, in request order: an error when the consumer does not hold it. */
  results: { offset: number; error?: SluiceError }[];
}

/** Sorts acknowledgements by type; `heldBy` throws for an offset the consumer does not hold. */
export function sortAcks(
  acks: { offset: number; type: QueueAckType }[],
  heldBy: (offset: number) => Entry,
): SortedAcks {
  const sorted: SortedAcks = { accepted: [], released: [], rejected: [], returned: [], results: [] };
  for (const { offset, type } of acks) {
    try {
      const entry = heldBy(offset);
      if (type === 'accept') sorted.accepted.push(entry);
      else if (type === 'release') sorted.released.push(entry);
      else if (type === 'return') sorted.returned.push(entry);
      else sorted.rejected.push(entry);
      sorted.results.push({ offset });
    } catch (err) {
      sorted.results.push({ offset, error: err as SluiceError });
    }
  }
  return sorted;
}

/**
 * Returns delivered, unacknowledged entries to the queue (the delivery
 * counted); past 1 + maxRedeliveries deliveries an entry goes to
 * `deadLetter` instead. Returns the delivery counts to persist.
 */
export function releaseEntries(
  entries: Entry[],
  now: number,
  to: {
    order: DeliveryOrder;
    maxRedeliveries: number;
    delay: (deliveries: number) => number;
    deadLetter: (entry: Entry) => void;
  },
): [number, number][] {
  const counts: [number, number][] = [];
  for (const entry of entries) {
    detach(entry);
    if (exceedsRedeliveries(entry.deliveryCount, to.maxRedeliveries)) {
      to.deadLetter(entry);
      continue;
    }
    entry.availableAt = now + to.delay(entry.deliveryCount);
    to.order.requeue(entry);
    counts.push([entry.offset, entry.deliveryCount]);
  }
  return counts;
}

/** Entries fetched but never handed to the application: available again at once, the delivery not counted. */
export function giveBackEntries(entries: Entry[], order: DeliveryOrder): [number, number][] {
  const counts: [number, number][] = [];
  for (const entry of entries) {
    detach(entry);
    entry.deliveryCount = Math.max(0, entry.deliveryCount - 1);
    entry.availableAt = 0;
    order.requeue(entry);
    counts.push([entry.offset, entry.deliveryCount]);
  }
  return counts;
}
