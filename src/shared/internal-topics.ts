/**
 * The reserved topic names: topics only the broker itself writes, creates and
 * deletes. Clients on either listener may read them (Kafka lets a consumer
 * read __consumer_offsets), but Produce, CreateTopics and DeleteTopics refuse
 * them with INVALID_TOPIC_EXCEPTION, and auto-creation never makes one.
 *
 *  - `__consumer_offsets`: committed offsets (the group coordinator's log).
 *  - `__transaction_state`: the transaction coordinators' log (each
 *    transactional id's state, src/transactions/txn-state-store.ts).
 *  - `__queue.<name>`: a queue's log (messages and the dispatcher's state
 *    records), including dead-letter queues; a record produced there would be
 *    delivered as a queue message or misread as queue state.
 *
 * The broker writes them through the replica manager directly (offset store,
 * transaction state store, queue dispatcher) and creates them through TopicManager.ensureInternal,
 * never through the public Produce / CreateTopics paths.
 */
import { ErrorCode, SluiceError } from './errors.js';

export const consumerOffsetsTopicName = '__consumer_offsets';
export const transactionStateTopicName = '__transaction_state';
/** The prefix of every queue's topic (`__queue.<queue>`). */
export const queueTopicNamePrefix = '__queue.';

const reservedTopicNames: ReadonlySet<string> = new Set([consumerOffsetsTopicName, transactionStateTopicName]);

/** True for a name only the broker may write, create or delete. */
export function isInternalTopic(name: string): boolean {
  return reservedTopicNames.has(name) || name.startsWith(queueTopicNamePrefix);
}

/** Throws INVALID_TOPIC (Kafka's INVALID_TOPIC_EXCEPTION) when `name` is internal; `action` says what was refused. */
export function refuseInternalTopic(name: string, action: string): void {
  if (isInternalTopic(name)) {
    throw new SluiceError(
      ErrorCode.InvalidTopic,
      `cannot ${action} ${name}: it is an internal topic, written only by the broker`,
    );
  }
}
