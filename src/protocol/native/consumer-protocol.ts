/**
 * The bytes consumers exchange through the group coordinator (Kafka's
 * "consumer" protocol type): a member's subscription (JoinGroup metadata) and
 * its assignment (SyncGroup), in Kafka's ConsumerProtocol layout, so that
 * Sluice's tools show the assignments of groups run by Kafka clients (kafkajs,
 * librdkafka) and Sluice's own members speak the same bytes. The broker
 * stores and forwards them without looking inside.
 *
 *   Subscription v0: version:int16 | topics:[string] | user_data:nullable bytes
 *                v1: + owned_partitions:[topic:string | partitions:[int32]]
 *                v2: + generation_id:int32      v3: + rack_id:nullable string
 *   Assignment   v0: version:int16 | assigned_partitions:[topic | [int32]] | user_data
 *
 * Newer versions only append fields, so a reader of an older version reads
 * a newer message's prefix (Kafka's rule); we write v1 and v0.
 */

import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { KafkaReader, KafkaWriter } from '../binary/primitives.js';
import { array, field, int32, nullableBytes, string, struct } from '../binary/schema.js';

export const consumerProtocolType = 'consumer';

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Subscription {
  version: number;
  topics: string[];
  /** Partitions the member holds now (for sticky assignors). */
  ownedPartitions: TopicPartitions[];
  userData?: Buffer;
}

export interface Assignment {
  version: number;
  partitions: TopicPartitions[];
  userData?: Buffer;
}

const topicPartitions = struct({ topic: field(string, ''), partitions: field(array(int32), []) });

const subscriptionSchema = struct({
  topics: field(array(string), []),
  userData: field(nullableBytes, null),
  ownedPartitions: field(array(topicPartitions), [], 1),
});

const assignmentSchema = struct({
  partitions: field(array(topicPartitions), []),
  userData: field(nullableBytes, null),
});

const subscriptionVersion = 1;
const assignmentVersion = 0;

function encode<T>(
  schema: { write(w: KafkaWriter, v: T, c: { version: number; flexible: boolean }): void },
  version: number,
  value: T,
): Buffer {
  const w = new KafkaWriter().int16(version);
  schema.write(w, value, { version, flexible: false });
  return w.toBuffer();
}

export function encodeSubscription(s: Subscription): Buffer {
  return encode(subscriptionSchema, subscriptionVersion, {
    topics: s.topics,
    userData: s.userData ?? null,
    ownedPartitions: s.ownedPartitions,
  });
}

export function encodeAssignment(a: Assignment): Buffer {
  return encode(assignmentSchema, assignmentVersion, { partitions: a.partitions, userData: a.userData ?? null });
}

function decode<T>(bytes: Buffer, what: string, read: (r: KafkaReader, version: number) => T): T {
  try {
    const r = new KafkaReader(bytes);
    const version = r.int16();
    if (version < 0) throw new SluiceError(ErrorCode.InvalidRequest, `negative version ${version}`);
    return read(r, version);
  } catch (err) {
    throw new SluiceError(ErrorCode.InvalidRequest, `undecodable ${what}: ${(err as Error).message}`, { cause: err });
  }
}

export function decodeSubscription(bytes: Buffer): Subscription {
  if (bytes.length === 0) return { version: 0, topics: [], ownedPartitions: [] };
  return decode(bytes, 'subscription', (r, version) => {
    const s = subscriptionSchema.read(r, { version: Math.min(version, subscriptionVersion), flexible: false });
    return {
      version,
      topics: s.topics,
      ownedPartitions: s.ownedPartitions,
      ...(s.userData ? { userData: s.userData } : {}),
    };
  });
}

export function decodeAssignment(bytes: Buffer): Assignment {
  // an empty assignment (a member that got nothing, or a failed sync) is no partitions
  if (bytes.length === 0) return { version: 0, partitions: [] };
  return decode(bytes, 'assignment', (r, version) => {
    const a = assignmentSchema.read(r, { version, flexible: false });
    return { version, partitions: a.partitions, ...(a.userData ? { userData: a.userData } : {}) };
  });
}
