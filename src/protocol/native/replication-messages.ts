/**
 * Native request and response bodies used between brokers for replication.
 * A follower's Fetch is the ordinary FetchRequest with `replicaId` set to its
 * broker id and `currentLeaderEpoch` per partition (messages.ts).
 */
import type { ErrorFields } from './messages.js';
import type * as shapes from './request-shapes.js';
import type { Infer } from './shape.js';

// OffsetForLeaderEpoch (Kafka's API 23): where does `leaderEpoch` end in the leader's log?
export type OffsetForLeaderEpochRequest = Infer<typeof shapes.offsetForLeaderEpochRequest>;
export interface OffsetForLeaderEpochPartition extends ErrorFields {
  partition: number;
  /** The largest epoch at or before the requested one the leader knows, -1 when none. */
  leaderEpoch: number;
  /** Where that epoch ends in the leader's log (the next epoch's start, or the log end), -1 when none. */
  endOffset: number;
}
export interface OffsetForLeaderEpochResponse extends ErrorFields {
  topics: { name: string; partitions: OffsetForLeaderEpochPartition[] }[];
}
