/**
 * DescribeLogDirs (35), v0-v4, flexible from v2: kafkajs 2.2.4 has no encoder
 * for it, so requests and responses are checked against bytes laid out by
 * hand from Kafka's DescribeLogDirsRequest/Response.json: v3 adds the
 * top-level ErrorCode, v4 each directory's TotalBytes and UsableBytes;
 * flexible versions use compact strings and arrays (length + 1 as an
 * unsigned varint, 0 for null) and an empty tagged field section after every
 * struct.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { describeLogDirsApi } from '../../../src/protocol/kafka/apis/describe-log-dirs.js';
import { kafkaApis, kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import type { DescribeLogDirsResponse } from '../../../src/protocol/native/log-dir-messages.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const at = (version: number) => ({ version, flexible: version >= 2 });

function readRequest(body: Buffer, version: number) {
  const r = new KafkaReader(body);
  const req = describeLogDirsApi.request.read(r, at(version));
  expect(r.remaining).toBe(0);
  return req;
}

function writeResponse(native: Parameters<typeof describeLogDirsApi.fromNative>[0], version: number): string {
  const req = { topics: null };
  const w = new KafkaWriter();
  describeLogDirsApi.response.write(w, describeLogDirsApi.fromNative(native, req, version, kafkaEnv), at(version));
  return w.toBuffer().toString('hex');
}

const answer: DescribeLogDirsResponse = {
  errorCode: 0,
  results: [
    {
      errorCode: 0,
      logDir: '/d',
      topics: [{ name: 't', partitions: [{ partition: 0, sizeBytes: 100, offsetLag: 0, isFuture: false }] }],
      totalBytes: 1000,
      usableBytes: 400,
    },
  ],
};

describe('DescribeLogDirs (35)', () => {
  it('is advertised as v0-v4', () => {
    expect(kafkaApis.get(35)).toBe(describeLogDirsApi);
    expect(kafkaEnv.supported.find((a) => a.apiKey === 35)).toEqual({ apiKey: 35, minVersion: 0, maxVersion: 4 });
  });

  it('reads hand-laid requests: v4 naming topic t partitions 0 and 1, v4 and v1 with null topics (every partition)', () => {
    const named = readRequest(hex('02 0274 03 00000000 00000001 00 00'), 4);
    expect(named).toEqual({ topics: [{ topic: 't', partitions: [0, 1] }] });
    expect(describeLogDirsApi.toNative?.(named, 4)).toEqual({ topics: [{ name: 't', partitions: [0, 1] }] });
    expect(readRequest(hex('00 00'), 4)).toEqual({ topics: null });
    expect(describeLogDirsApi.toNative?.(readRequest(hex('ffffffff'), 1), 1)).toEqual({ topics: null });
  });

  it('writes v4 with the directory total and usable bytes, flexible', () => {
    expect(writeResponse(answer, 4)).toBe(
      hex(`00000000 0000 02
        0000 03 2f64 02 0274 02
          00000000 0000000000000064 0000000000000000 00 00
        00
        00000000000003e8 0000000000000190 00
      00`).toString('hex'),
    );
  });

  it('writes v1 without the top-level error code or the byte totals, not flexible', () => {
    expect(writeResponse(answer, 1)).toBe(
      hex(`00000000 00000001
        0000 0002 2f64 00000001 0001 74 00000001
          00000000 0000000000000064 0000000000000000 00`).toString('hex'),
    );
  });

  it('a refused request: the top-level error from v3, an empty result list before it (as Kafka answers)', () => {
    const refused = { errorCode: 31, errorMessage: 'not authorized' };
    expect(writeResponse(refused, 3)).toBe(hex('00000000 001f 01 00').toString('hex'));
    expect(writeResponse(refused, 2)).toBe(hex('00000000 01 00').toString('hex'));
    expect(writeResponse(refused, 0)).toBe(hex('00000000 00000000').toString('hex'));
  });
});
