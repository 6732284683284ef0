/**
 * DescribeLogDirs (Kafka's key 35), native: each log directory of the broker
 * answering, with the size in bytes of each partition replica it holds there
 * and (Kafka's v4 fields) the directory's total and usable bytes. Every broker
 * answers for its own replicas only, so a cluster-wide view asks each broker.
 */
import { requestListItemsMax, requestStringLengthMax, topicPartitionsMax } from '../../shared/limits.js';
import type { ErrorFields } from './messages.js';
import { type Infer, int32, list, nullable, object, optional, text } from './shape.js';

export const describeLogDirsRequest = object({
  /** null or absent: every partition this broker holds. */
  topics: optional(
    nullable(
      list(
        object({ name: text(requestStringLengthMax), partitions: list(int32, topicPartitionsMax) }),
        requestListItemsMax,
      ),
    ),
  ),
});

export type DescribeLogDirsRequest = Infer<typeof describeLogDirsRequest>;

export interface DescribeLogDirsResponse extends ErrorFields {
  results: ({
    logDir: string;
    topics: {
      name: string;
      partitions: {
        partition: number;
        /** Bytes of the replica's segments on disk. */
        sizeBytes: number;
        /** Kafka's OffsetLag: records this replica is behind its log end (0: Sluice has no future replicas). */
        offsetLag: number;
        /** Kafka's IsFutureKey: a replica being moved between directories (never, here). */
        isFuture: boolean;
      }[];
    }[];
    /** Bytes of the file system holding the directory; -1 when unknown (Kafka's v4 TotalBytes). */
    totalBytes: number;
    /** Bytes free to the broker there; -1 when unknown (Kafka's v4 UsableBytes). */
    usableBytes: number;
  } & ErrorFields)[];
}
