/**
 * The cluster id: Kafka's form, a UUID written as 22 characters of URL-safe
 * base64 without padding (16 random bytes). Generated once per cluster and
 * kept where the cluster's metadata lives (ZooKeeper's /cluster/id, or the
 * standalone broker's LevelDB); clients (librdkafka's rd_kafka_clusterid(),
 * DescribeCluster) expect one and some crash on a null.
 */
import { randomBytes } from 'node:crypto';

const clusterIdPattern = /^[A-Za-z0-9_-]{22}$/;

/** A new random cluster id. Like Kafka's Uuid.randomUuid(), never one starting with '-' (it reads as a CLI flag). */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** True for 22 characters of URL-safe base64 (16 bytes, unpadded). */
export function isClusterId(value: unknown): value is string {
  // 22 base64 characters carry 132 bits: the last one holds 2 bits of the 16th byte and 4 zero bits
  return typeof value === 'string' && clusterIdPattern.test(value) && 'AQgw'.includes(value.charAt(21));
}
