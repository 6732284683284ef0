/**
 * Sluice's consumer-protocol bytes are Kafka's ConsumerProtocol layout: what
 * kafkajs (an independent implementation) writes, Sluice reads, and the reverse.
 */
import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../src/protocol/native/consumer-protocol.js';

describe('consumer protocol (Kafka layout)', () => {
  it('reads a subscription kafkajs wrote', () => {
    const bytes = AssignerProtocol.MemberMetadata.encode({
      version: 0,
      topics: ['orders', 'payments'],
      userData: Buffer.from('hi'),
    });
    const s = decodeSubscription(bytes);
    expect(s).toEqual({ version: 0, topics: ['orders', 'payments'], ownedPartitions: [], userData: Buffer.from('hi') });
  });

  it('writes a subscription kafkajs reads (v1 with owned partitions: kafkajs reads the v0 prefix)', () => {
    const bytes = encodeSubscription({
      version: 1,
      topics: ['t'],
      ownedPartitions: [{ topic: 't', partitions: [0, 2] }],
    });
    expect(bytes.subarray(0, 2).readInt16BE(0)).toBe(1);
    const theirs = AssignerProtocol.MemberMetadata.decode(bytes);
    expect(theirs?.topics).toEqual(['t']);
    expect(decodeSubscription(bytes).ownedPartitions).toEqual([{ topic: 't', partitions: [0, 2] }]);
  });

  it('assignments round-trip with kafkajs both ways', () => {
    const ours = encodeAssignment({ version: 0, partitions: [{ topic: 't', partitions: [1, 3] }] });
    expect(AssignerProtocol.MemberAssignment.decode(ours)?.assignment).toEqual({ t: [1, 3] });
    const theirs = AssignerProtocol.MemberAssignment.encode({
      version: 0,
      assignment: { a: [0], b: [4, 5] },
      userData: Buffer.alloc(0),
    });
    expect(decodeAssignment(theirs).partitions).toEqual([
      { topic: 'a', partitions: [0] },
      { topic: 'b', partitions: [4, 5] },
    ]);
  });

  it('an empty assignment is no partitions; garbage is a typed error', () => {
    expect(decodeAssignment(Buffer.alloc(0)).partitions).toEqual([]);
    expect(() => decodeAssignment(Buffer.from([0, 0, 0, 0, 0, 9]))).toThrow(/undecodable assignment/);
    expect(() => decodeSubscription(Buffer.from([0xff, 0xff]))).toThrow(/undecodable subscription/);
  });
});
