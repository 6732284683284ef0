/**
 * DescribeLogDirs (Kafka's API 35): this broker's log directories, the
 * partition replicas held in each with their bytes on disk, and each
 * directory's total and usable bytes (Kafka's v4 fields). A broker answers
 * for its own replicas only (Kafka's behaviour): a cluster-wide view asks
 * every broker. Topics named but not held here are left out, as Kafka does.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DescribeLogDirsResponse } from '../protocol/native/log-dir-messages.js';
import { WireError } from '../shared/errors.js';
import type { Handler } from './context.js';

export const describeLogDirsHandler: Handler<typeof ApiKey.DescribeLogDirs> = {
  apiKey: ApiKey.DescribeLogDirs,
  async handle(request, ctx): Promise<DescribeLogDirsResponse> {
    const wanted = request.topics ? new Map(request.topics.map((t) => [t.name, new Set(t.partitions)])) : undefined;
    const results = ctx.logs.dirReport().map((d) => {
      const topics = new Map<string, DescribeLogDirsResponse['results'][number]['topics'][number]>();
      for (const p of d.partitions) {
        if (wanted && !wanted.get(p.topic)?.has(p.partition)) continue;
        let entry = topics.get(p.topic);
        if (!entry) {
          entry = { name: p.topic, partitions: [] };
          topics.set(p.topic, entry);
        }
        entry.partitions.push({ partition: p.partition, sizeBytes: p.sizeBytes, offsetLag: 0, isFuture: false });
      }
      for (const t of topics.values()) t.partitions.sort((a, b) => a.partition - b.partition);
      return {
        errorCode: WireError.NONE,
        logDir: d.dir,
        topics: [...topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        totalBytes: d.space?.totalBytes ?? -1,
        usableBytes: d.space?.freeBytes ?? -1,
      };
    });
    return { errorCode: WireError.NONE, results };
  },
};
