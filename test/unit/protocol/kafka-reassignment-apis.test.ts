/**
 * AlterPartitionReassignments (45) and ListPartitionReassignments (46), v0,
 * flexible from v0: kafkajs 2.2.4 has no encoder for them, so requests and
 * responses are checked against bytes laid out by hand from Kafka's message
 * schemas (AlterPartitionReassignmentsRequest/Response.json,
 * ListPartitionReassignmentsRequest/Response.json): compact strings and
 * arrays (length + 1 as an unsigned varint, 0 for null), an empty tagged
 * field section after every struct.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { alterPartitionReassignmentsApi } from '../../../src/protocol/kafka/apis/alter-partition-reassignments.js';
import { listPartitionReassignmentsApi } from '../../../src/protocol/kafka/apis/list-partition-reassignments.js';
import { kafkaApis, kafkaEnv } from '../../../src/protocol/kafka/registry.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const v0 = { version: 0, flexible: true };

function readRequest<Req, Res>(api: KafkaApi<Req, Res>, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, v0);
  expect(r.remaining).toBe(0);
  return req;
}

function writeResponse<Req, Res>(api: KafkaApi<Req, Res>, native: NativeResult, req: Req): string {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, 0, kafkaEnv), v0);
  return w.toBuffer().toString('hex');
}

describe('AlterPartitionReassignments (45) v0', () => {
  // timeout 60000; topics [ "t": partition 0 → [2,3], partition 1 → null (cancel) ]
  const request = hex('0000ea60 02 0274 03 00000000 03 00000002 00000003 00 00000001 00 00 00 00');

  it('is advertised as v0 only, flexible', () => {
    expect(kafkaApis.get(45)).toBe(alterPartitionReassignmentsApi);
    expect(kafkaEnv.supported.find((a) => a.apiKey === 45)).toEqual({ apiKey: 45, minVersion: 0, maxVersion: 0 });
  });

  it('reads the hand-laid request and maps it to the native request', () => {
    const req = readRequest(alterPartitionReassignmentsApi, request);
    expect(req).toEqual({
      timeoutMs: 60_000,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, replicas: [2, 3] },
            { partitionIndex: 1, replicas: null },
          ],
        },
      ],
    });
    expect(alterPartitionReassignmentsApi.toNative?.(req, 0)).toEqual({
      timeoutMs: 60_000,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, replicas: [2, 3] },
            { partition: 1, replicas: null },
          ],
        },
      ],
      throttleBytesPerSec: undefined,
    });
  });

  it('writes per-partition results and a top-level error as the schema lays them out', () => {
    const req = readRequest(alterPartitionReassignmentsApi, request);
    const native = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 1, errorCode: WireError.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: 'no' },
          ],
        },
      ],
    };
    expect(writeResponse(alterPartitionReassignmentsApi, native, req)).toBe(
      hex('00000000 0000 00 02 0274 03 00000000 0000 00 00 00000001 0055 036e6f 00 00 00').toString('hex'),
    );
    // NOT_CONTROLLER (41) for the whole request, as a Kafka broker that is not the controller answers
    expect(
      writeResponse(alterPartitionReassignmentsApi, { errorCode: WireError.NOT_CONTROLLER, errorMessage: 'x' }, req),
    ).toBe(hex('00000000 0029 0278 01 00').toString('hex'));
  });
});

describe('ListPartitionReassignments (46) v0', () => {
  it('is advertised as v0 only, flexible', () => {
    expect(kafkaApis.get(46)).toBe(listPartitionReassignmentsApi);
    expect(kafkaEnv.supported.find((a) => a.apiKey === 46)).toEqual({ apiKey: 46, minVersion: 0, maxVersion: 0 });
  });

  it('reads a request for every partition (topics null) and one naming partitions', () => {
    const all = readRequest(listPartitionReassignmentsApi, hex('0000ea60 00 00'));
    expect(all).toEqual({ timeoutMs: 60_000, topics: null });
    expect(listPartitionReassignmentsApi.toNative?.(all, 0)).toEqual({ timeoutMs: 60_000, topics: null });
    const some = readRequest(listPartitionReassignmentsApi, hex('00001388 02 0274 03 00000000 00000002 00 00'));
    expect(listPartitionReassignmentsApi.toNative?.(some, 0)).toEqual({
      timeoutMs: 5000,
      topics: [{ name: 't', partitions: [0, 2] }],
    });
  });

  it('writes the ongoing reassignments: replicas, adding and removing', () => {
    const req = readRequest(listPartitionReassignmentsApi, hex('0000ea60 00 00'));
    const native = {
      errorCode: 0,
      topics: [
        { name: 't', partitions: [{ partition: 0, replicas: [2, 3, 1], addingReplicas: [3], removingReplicas: [1] }] },
      ],
    };
    expect(writeResponse(listPartitionReassignmentsApi, native, req)).toBe(
      hex(
        '00000000 0000 00 02 0274 02 00000000 04 00000002 00000003 00000001 02 00000003 02 00000001 00 00 00',
      ).toString('hex'),
    );
    expect(writeResponse(listPartitionReassignmentsApi, { errorCode: WireError.NOT_CONTROLLER }, req)).toBe(
      hex('00000000 0029 00 01 00').toString('hex'),
    );
  });
});
