/**
 * Transactions (issue 21, Kafka's KIP-98 / KIP-447 / KIP-360): the native
 * request shapes (checked by both listeners before a handler runs, as every
 * shape in request-shapes.ts) and response types of the transaction APIs.
 * Keys and fields are Kafka's (AddPartitionsToTxn 24, AddOffsetsToTxn 25,
 * EndTxn 26, WriteTxnMarkers 27, TxnOffsetCommit 28, DescribeTransactions 65,
 * ListTransactions 66), camelCase, so the Kafka adapters map field to field.
 *
 * Who answers: the transaction coordinator (the leader of the transactional
 * id's `__transaction_state` partition) answers AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn and Describe/ListTransactions; the group
 * coordinator answers TxnOffsetCommit; a partition's leader answers
 * WriteTxnMarkers (sent by a transaction coordinator, never by clients).
 */
import { requestListItemsMax, requestStringLengthMax, topicPartitionsMax } from '../../shared/limits.js';
import type { ErrorFields } from './messages.js';
import { boolean, type Infer, int16, int32, int64, list, nullable, object, optional, text } from './shape.js';

const name = text(requestStringLengthMax);
const names = list(name, requestListItemsMax);
const partitions = list(int32, topicPartitionsMax);
const topicPartitions = list(object({ name, partitions }), requestListItemsMax);

/** The producer a transactional request speaks for: its transactional id, producer id and epoch. */
const producer = {
  transactionalId: name,
  producerId: int64,
  producerEpoch: int16,
};

/** One partition's outcome in a per-partition answer. */
export interface TxnPartitionResult extends ErrorFields {
  partition: number;
}
export interface TxnTopicResult {
  name: string;
  partitions: TxnPartitionResult[];
}

// ---- AddPartitionsToTxn (24): partitions the producer is about to write to in its open transaction ----

export const addPartitionsToTxnRequest = object({ ...producer, topics: topicPartitions });
export type AddPartitionsToTxnRequest = Infer<typeof addPartitionsToTxnRequest>;
/** errorCode at the top: the request as a whole (e.g. NOT_COORDINATOR); per partition otherwise. */
export interface AddPartitionsToTxnResponse extends ErrorFields {
  results: TxnTopicResult[];
}

// ---- AddOffsetsToTxn (25): the group whose offsets the transaction will commit (its __consumer_offsets partition joins) ----

export const addOffsetsToTxnRequest = object({ ...producer, groupId: name });
export type AddOffsetsToTxnRequest = Infer<typeof addOffsetsToTxnRequest>;
export type AddOffsetsToTxnResponse = ErrorFields;

// ---- EndTxn (26): commit (committed true) or abort the open transaction ----

export const endTxnRequest = object({ ...producer, committed: boolean });
export type EndTxnRequest = Infer<typeof endTxnRequest>;
export type EndTxnResponse = ErrorFields;

// ---- WriteTxnMarkers (27): coordinator → partition leader, one control batch per partition ----

export const writeTxnMarkersRequest = object({
  markers: list(
    object({
      producerId: int64,
      producerEpoch: int16,
      /** true: a COMMIT marker; false: ABORT. */
      committed: boolean,
      topics: topicPartitions,
      /** The coordinator's epoch (the leader epoch of its __transaction_state partition): a marker from an older coordinator is refused. */
      coordinatorEpoch: int32,
    }),
    requestListItemsMax,
  ),
});
export type WriteTxnMarkersRequest = Infer<typeof writeTxnMarkersRequest>;
export interface WriteTxnMarkersResponse extends ErrorFields {
  markers: { producerId: number; topics: TxnTopicResult[] }[];
}

// ---- TxnOffsetCommit (28): offsets committed inside the transaction, visible once it commits ----

export const txnOffsetCommitRequest = object({
  transactionalId: name,
  groupId: name,
  producerId: int64,
  producerEpoch: int16,
  /** KIP-447 (v3+): the consumer's group generation and member, fenced like OffsetCommit when given. */
  generationId: optional(int32),
  memberId: optional(name),
  groupInstanceId: optional(nullable(name)),
  topics: list(
    object({
      name,
      partitions: list(
        object({
          partition: int32,
          offset: int64,
          metadata: optional(nullable(text(requestStringLengthMax))),
          leaderEpoch: optional(int32),
        }),
        topicPartitionsMax,
      ),
    }),
    requestListItemsMax,
  ),
});
export type TxnOffsetCommitRequest = Infer<typeof txnOffsetCommitRequest>;
export interface TxnOffsetCommitResponse extends ErrorFields {
  topics: TxnTopicResult[];
}

// ---- DescribeTransactions (65) and ListTransactions (66): Kafka 3's admin view of the coordinators ----

/** Kafka's transaction state names, as these answers and ListTransactions' state filters carry them. */
export const txnStates = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
] as const;
export type TxnState = (typeof txnStates)[number];

export const describeTransactionsRequest = object({ transactionalIds: names });
export type DescribeTransactionsRequest = Infer<typeof describeTransactionsRequest>;
export interface TransactionDescription extends ErrorFields {
  transactionalId: string;
  /** Kafka's state names: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence. */
  transactionState: string;
  transactionTimeoutMs: number;
  /** -1 when no transaction is open. */
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { name: string; partitions: number[] }[];
}
export interface DescribeTransactionsResponse extends ErrorFields {
  transactionStates: TransactionDescription[];
}

export const listTransactionsRequest = object({
  /** Only transactions in these states (Kafka's names); absent or empty: every state. */
  stateFilters: optional(names),
  /** Only these producer ids; absent or empty: every producer. */
  producerIdFilters: optional(list(int64, requestListItemsMax)),
});
export type ListTransactionsRequest = Infer<typeof listTransactionsRequest>;
export interface ListTransactionsResponse extends ErrorFields {
  /** Filter states this broker does not know. */
  unknownStateFilters: string[];
  transactionStates: { transactionalId: string; producerId: number; transactionState: string }[];
}
