/**
 * Fetch v13 (KIP-516: topics named by topic id in the request, its forgotten
 * topics and the response) and OffsetFetch v8 (KIP-709: several groups in one
 * request, each answered with its own error), checked against bytes laid out
 * by hand from Kafka's FetchRequest.json / FetchResponse.json and
 * OffsetFetchRequest.json / OffsetFetchResponse.json (flexible versions:
 * compact strings and arrays, a tagged-field section closing every struct).
 * kafkajs 2.2.4 speaks neither version. Every request body is read to its last
 * byte, and the native body each one becomes passes the native shape check.
 */
import { describe, expect, it } from 'vitest';
import { zeroUuid } from '../../../src/protocol/binary/schema.js';
import { fetchApi } from '../../../src/protocol/kafka/apis/fetch.js';
import { offsetFetchApi } from '../../../src/protocol/kafka/apis/offset-fetch.js';
import { decodeKafkaRequest } from '../../../src/protocol/kafka/codec.js';
import { kafkaCodec } from '../../../src/server/kafka-codec.js';
import { cs, hex, readRequest, writeResponse } from '../../helpers/kafka-api-check.js';

const clean = (s: string): string => s.replace(/\s+/g, '');
/** Two topic ids: 16 bytes each, and their Kafka string forms. */
const idHex = '000102030405060708090a0b0c0d0e0f';
const id = hex(idHex).toString('base64url');
const goneHex = 'f0e0d0c0b0a090807060504030201000';
const gone = hex(goneHex).toString('base64url');
const zeroHex = '00'.repeat(16);

/** Request header v2 (flexible): api key, version, correlation id 7, null client id, no tagged fields. */
const header = (apiKey: number, version: number): string =>
  `${apiKey.toString(16).padStart(4, '0')} ${version.toString(16).padStart(4, '0')} 00000007 ffff 00`;

describe('Fetch v13 (topic ids)', () => {
  // replica -1, max wait 500, min bytes 1, max bytes 64 KiB, read_committed, session 0 epoch -1 (no session);
  // topics: [id: partition 1 from offset 5], [zero UUID: partition 0 from offset 0];
  // forgotten: [gone: 0, 3]; rack ''
  const body = `
    ffffffff 000001f4 00000001 00010000 01 00000000 ffffffff
    03
      ${idHex} 02 00000001 ffffffff 0000000000000005 ffffffff ffffffffffffffff 00001000 00 00
      ${zeroHex} 02 00000000 ffffffff 0000000000000000 ffffffff ffffffffffffffff 00001000 00 00
    02 ${goneHex} 03 00000000 00000003 00
    ${cs('')}
    00`;

  it('reads topics and forgotten topics by id, and asks the handler by id', () => {
    const req = readRequest(fetchApi, 13, hex(body));
    expect(req.topics.map((t) => [t.topic, t.topicId, t.partitions.map((p) => [p.partition, p.fetchOffset])])).toEqual([
      ['', id, [[1, 5]]],
      ['', zeroUuid, [[0, 0]]],
    ]);
    expect(req.forgottenTopicsData).toEqual([{ topic: '', topicId: gone, partitions: [0, 3] }]);
    expect(fetchApi.toNative?.(req, 13)).toEqual({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 65536,
      isolationLevel: 1,
      topics: [
        { name: '', topicId: id, partitions: [{ partition: 1, fetchOffset: 5, partitionMaxBytes: 4096 }] },
        { name: '', topicId: zeroUuid, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 4096 }] },
      ],
      // v13 >= v10: the reader takes zstd (KIP-110)
      zstdReadable: true,
    });
    // the same body in a request frame: routed to the native Fetch, whose shape takes the ids
    const request = decodeKafkaRequest(hex(`${header(1, 13)} ${body}`));
    expect(request.api).toBe(fetchApi);
    expect(kafkaCodec().route(request)).toMatchObject({
      apiKey: 1,
      body: { topics: [{ topicId: id }, { topicId: zeroUuid }] },
    });
  });

  it('answers by id: records for a known one, UNKNOWN_TOPIC_ID (100) per partition for an unknown one', () => {
    const req = readRequest(fetchApi, 13, hex(body));
    const native = {
      errorCode: 0,
      topics: [
        {
          name: 't',
          topicId: id,
          partitions: [{ partition: 1, errorCode: 0, highWatermark: 6, logStartOffset: 0, records: hex('abcdef') }],
        },
        {
          name: '',
          topicId: zeroUuid,
          partitions: [
            { partition: 0, errorCode: 100, highWatermark: -1, logStartOffset: -1, records: Buffer.alloc(0) },
          ],
        },
      ],
    };
    // no top-level error; the topic name is not in v13's response, the id is
    expect(writeResponse(fetchApi, 13, native, req).toString('hex')).toBe(
      clean(`
        00000000 0000 00000000
        03
          ${idHex}
            02 00000001 0000 0000000000000006 0000000000000006 0000000000000000 01 ffffffff 04 abcdef 00
            00
          ${zeroHex}
            02 00000000 0064 ffffffffffffffff ffffffffffffffff ffffffffffffffff 00 ffffffff 01 00
            00
        00`),
    );
  });

  it('spreads a request-level error over every partition, naming each topic by the id it was asked by', () => {
    const req = readRequest(fetchApi, 13, hex(body));
    expect(writeResponse(fetchApi, 13, { errorCode: 22 }, req).toString('hex')).toBe(
      clean(`
        00000000 0016 00000000
        03
          ${idHex} 02 00000001 0016 ffffffffffffffff ffffffffffffffff ffffffffffffffff 00 ffffffff 00 00 00
          ${zeroHex} 02 00000000 0016 ffffffffffffffff ffffffffffffffff ffffffffffffffff 00 ffffffff 00 00 00
        00`),
    );
  });

  it('keeps v12 by name: no topic id goes to the handler', () => {
    const v12 = readRequest(
      fetchApi,
      12,
      hex(`ffffffff 00000000 00000001 00010000 00 00000000 ffffffff
        02 ${cs('t')} 02 00000001 ffffffff 0000000000000005 ffffffff ffffffffffffffff 00001000 00 00 01 01 00`),
    );
    expect(fetchApi.toNative?.(v12, 12)?.topics).toEqual([
      { name: 't', partitions: [{ partition: 1, fetchOffset: 5, partitionMaxBytes: 4096 }] },
    ]);
  });
});

describe('OffsetFetch v8 (several groups)', () => {
  // groups: [g1: t [0, 1]], [nobody: every partition (null)], [elsewhere: t [0]]; require_stable false
  const body = `
    04
      ${cs('g1')} 02 ${cs('t')} 03 00000000 00000001 00 00
      ${cs('nobody')} 00 00
      ${cs('elsewhere')} 02 ${cs('t')} 02 00000000 00 00
    00
    00`;

  it('reads the groups and asks the handler for each', () => {
    const req = readRequest(offsetFetchApi, 8, hex(body));
    expect(req).toEqual({
      groupId: '',
      topics: null,
      groups: [
        { groupId: 'g1', topics: [{ name: 't', partitionIndexes: [0, 1] }] },
        { groupId: 'nobody', topics: null },
        { groupId: 'elsewhere', topics: [{ name: 't', partitionIndexes: [0] }] },
      ],
      requireStable: false,
    });
    const native = {
      groupId: '',
      topics: null,
      groups: [
        { groupId: 'g1', topics: [{ name: 't', partitions: [0, 1] }] },
        { groupId: 'nobody', topics: null },
        { groupId: 'elsewhere', topics: [{ name: 't', partitions: [0] }] },
      ],
    };
    expect(offsetFetchApi.toNative?.(req, 8)).toEqual(native);
    const request = decodeKafkaRequest(hex(`${header(9, 8)} ${body}`));
    expect(request.api).toBe(offsetFetchApi);
    expect(kafkaCodec().route(request)).toEqual({ apiKey: 9, body: native });
  });

  it("answers each group with its own error: a refused group's topics are left out", () => {
    const req = readRequest(offsetFetchApi, 8, hex(body));
    const native = {
      errorCode: 0,
      topics: [],
      groups: [
        {
          groupId: 'g1',
          errorCode: 0,
          topics: [
            {
              name: 't',
              partitions: [
                { partition: 0, errorCode: 0, offset: 10, metadata: 'x', leaderEpoch: 3 },
                { partition: 1, errorCode: 0, offset: -1, metadata: '', leaderEpoch: -1 },
              ],
            },
          ],
        },
        // a group nobody committed for, asked for every partition: nothing
        { groupId: 'nobody', errorCode: 0, topics: [] },
        { groupId: 'elsewhere', errorCode: 16, errorMessage: 'not the coordinator', topics: [] },
      ],
    };
    expect(writeResponse(offsetFetchApi, 8, native, req).toString('hex')).toBe(
      clean(`
        00000000
        04
          ${cs('g1')}
            02 ${cs('t')}
              03 00000000 000000000000000a 00000003 ${cs('x')} 0000 00
                 00000001 ffffffffffffffff ffffffff ${cs('')} 0000 00
              00
            0000 00
          ${cs('nobody')} 01 0000 00
          ${cs('elsewhere')} 01 0010 00
        00`),
    );
    // refused as a whole: every group carries the error
    expect(writeResponse(offsetFetchApi, 8, { errorCode: 42 }, req).toString('hex')).toBe(
      clean(`00000000 04 ${cs('g1')} 01 002a 00 ${cs('nobody')} 01 002a 00 ${cs('elsewhere')} 01 002a 00 00`),
    );
  });

  it('keeps v7 to one group', () => {
    const v7 = readRequest(offsetFetchApi, 7, hex(`${cs('g')} 00 01 00`));
    expect(offsetFetchApi.toNative?.(v7, 7)).toEqual({ groupId: 'g', topics: null });
  });
});
