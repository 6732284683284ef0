/**
 * The bytes consumers exchange through the group coordinator (Kafka's
 * "consumer" protocol type): a member's subscription (JoinGroup metadata) and
 * its assignment (SyncGroup). msgpackr-encoded; the broker stores and forwards
 * them without looking inside, tools decode them to show assignments.
 */
import { Packr } from 'msgpackr';
import { ErrorCode, SluiceError } from '../../shared/errors.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

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

export function encodeSubscription(s: Subscription): Buffer {
  return packr.pack(s);
}

export function encodeAssignment(a: Assignment): Buffer {
  return packr.pack(a);
}

function decode<T>(bytes: Buffer, what: string, check: (v: Record<string, unknown>) => boolean): T {
  if (bytes.length === 0) return { version: 0, topics: [], partitions: [], ownedPartitions: [] } as T;
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (err) {
    throw new SluiceError(ErrorCode.InvalidRequest, `undecodable ${what}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || !check(value as Record<string, unknown>)) {
    throw new SluiceError(ErrorCode.InvalidRequest, `malformed ${what}`);
  }
  return value as T;
}

export function decodeSubscription(bytes: Buffer): Subscription {
  const s = decode<Subscription>(bytes, 'subscription', (v) => Array.isArray(v.topics));
  return { ...s, ownedPartitions: s.ownedPartitions ?? [] };
}

export function decodeAssignment(bytes: Buffer): Assignment {
  return decode<Assignment>(bytes, 'assignment', (v) => Array.isArray(v.partitions));
}
