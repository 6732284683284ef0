/**
 * Native request and response bodies used between brokers for replication.
 * A follower's Fetch is the ordinary FetchRequest with `replicaId` set to its
 * broker id and `currentLeaderEpoch` per partition (messages.ts).
 */
import type { ErrorFields } from './messages.js';
import type * as shapes from './request-shapes.js';
import { type Infer, int32, int64, object } from './shape.js';

/**
 * BrokerHeartbeat (native only, key 63): a broker that cannot reach ZooKeeper
 * asks a peer whether its registration still exists there. A peer connected
 * to ZooKeeper that no longer sees it proves the session expired (ZooKeeper
 * deletes a session's ephemeral nodes only when it ends): the asking broker
 * then stops leading at once instead of when its connection returns.
 */
export const brokerHeartbeatRequest = object({
  brokerId: int32,
  /**
   * The zxid that created the asker's registration znode: a registration of
   * another session (the broker re-registered) is not the asker's.
   */
  registrationZxid: int64,
});
export type BrokerHeartbeatRequest = Infer<typeof brokerHeartbeatRequest>;
export interface BrokerHeartbeatResponse extends ErrorFields {
  /** The answering broker's own ZooKeeper connection is up (else its view proves nothing). */
  connected: boolean;
  /** ZooKeeper, read now, holds the asker's registration (the one created at registrationZxid). */
  registered: boolean;
}

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
