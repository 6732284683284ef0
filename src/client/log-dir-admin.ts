/**
 * describeLogDirs: every broker's log directories with the partition replicas
 * in each and their bytes on disk (Kafka's DescribeLogDirs, asked of each
 * broker in the metadata, as Kafka's Admin.describeLogDirs does). A broker
 * that does not answer is reported with its error instead of failing the rest.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel } from './errors.js';

export interface LogDirDescription {
  broker: number;
  dir: string;
  /** Bytes of the file system holding the directory; null when the broker could not tell. */
  totalBytes: number | null;
  /** Bytes free to the broker there; null when unknown. */
  usableBytes: number | null;
  replicas: { topic: string; partition: number; sizeBytes: number }[];
}

export interface LogDirsOfCluster {
  dirs: LogDirDescription[];
  /** Brokers that gave no answer, with the reason. */
  unreachable: { broker: number; error: string }[];
}

export async function describeLogDirs(cluster: Cluster): Promise<LogDirsOfCluster> {
  const metadata = await cluster.refreshMetadata([]);
  const ids = metadata.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  const answers = await Promise.all(
    ids.map(async (broker) => {
      try {
        const conn = await cluster.brokerConnection(broker);
        const answer = await conn.request(ApiKey.DescribeLogDirs, { topics: null });
        checkTopLevel(answer, `describe log dirs of broker ${broker}`);
        const dirs: LogDirDescription[] = answer.results.map((r) => ({
          broker,
          dir: r.logDir,
          totalBytes: r.totalBytes >= 0 ? r.totalBytes : null,
          usableBytes: r.usableBytes >= 0 ? r.usableBytes : null,
          replicas: r.topics.flatMap((t) =>
            t.partitions.map((p) => ({ topic: t.name, partition: p.partition, sizeBytes: p.sizeBytes })),
          ),
        }));
        return { dirs };
      } catch (err) {
        return { error: { broker, error: (err as Error).message } };
      }
    }),
  );
  return {
    dirs: answers.flatMap((a) => a.dirs ?? []),
    unreachable: answers.flatMap((a) => (a.error ? [a.error] : [])),
  };
}
