/**
 * Native fetch responses (issue 20 item 2): record batches of at least
 * referencedBytesMin are not copied into the msgpack envelope; the frame's
 * chunks reference them. The bytes on the wire are exactly what packing the
 * whole response produced before, so the client decodes the same response.
 */
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import {
  decodeResponse,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
  ReferencedBytes,
  referencedBytesMin,
} from '../../../src/protocol/native/frame.js';
import type { FetchResponse } from '../../../src/protocol/native/messages.js';
import { nativeCodec } from '../../../src/server/native-codec.js';

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function fetchResponse(sizes: number[]): FetchResponse {
  return {
    errorCode: 0,
    topics: [
      {
        name: 'a',
        partitions: sizes.map((n, i) => ({
          partition: i,
          errorCode: 0,
          highWatermark: 1_000_000 + i,
          logStartOffset: i,
          records: bytes(n, i),
        })),
      },
      {
        name: '',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [
          {
            partition: 0,
            errorCode: 100,
            errorMessage: 'no topic has id',
            highWatermark: -1,
            logStartOffset: -1,
            records: Buffer.alloc(0),
          },
        ],
      },
    ],
  };
}

const fetchRequest = (codec: ReturnType<typeof nativeCodec>) =>
  codec.decode(
    encodeRequest(
      { apiKey: ApiKey.Fetch, apiVersion: 0, correlationId: 77, clientId: 'c' },
      { topics: [{ name: 'a', partitions: [{ partition: 0, fetchOffset: 0 }] }] },
    ).subarray(4),
  );

describe('native fetch frame', () => {
  it('is byte for byte the packed response, with the large batches referenced rather than copied', () => {
    const codec = nativeCodec();
    // below the threshold, at it, bin 16's largest, bin 32's smallest, and a large one
    const sizes = [100, referencedBytesMin - 1, referencedBytesMin, 0xffff, 0x10000, 1 << 20];
    const response = fetchResponse(sizes);
    const chunks = codec.encode(fetchRequest(codec), response) ?? [];
    expect(Buffer.concat(chunks).equals(encodeResponse(77, response))).toBe(true);
    // each batch of at least referencedBytesMin is one of the chunks itself (the same memory)
    const referenced = (response.topics[0]?.partitions ?? []).filter((p) => p.records.length >= referencedBytesMin);
    expect(referenced).toHaveLength(4);
    for (const p of referenced) expect(chunks.some((c) => c === p.records)).toBe(true);
    // and the client's decoding sees the response it always saw
    const decoded = decodeResponse(Buffer.concat(chunks).subarray(4)).body as FetchResponse;
    const partitions = decoded.topics[0]?.partitions ?? [];
    expect(partitions.map((p) => p.records.length)).toEqual(sizes);
    expect(partitions.every((p, i) => Buffer.from(p.records).equals(bytes(sizes[i] as number, i)))).toBe(true);
    expect(decoded.topics[1]).toEqual(response.topics[1]);
  });

  it('with a throttle time, and with no large batch, the frame is still the packed response', () => {
    const codec = nativeCodec();
    for (const sizes of [[10, 20], [referencedBytesMin * 2]]) {
      const response = fetchResponse(sizes);
      const frame = Buffer.concat(codec.encode(fetchRequest(codec), response, 250) ?? []);
      expect(frame.equals(encodeResponse(77, { ...response, throttleTimeMs: 250 }))).toBe(true);
    }
  });

  it('a produce request with large batches referenced is byte for byte the packed request', () => {
    const batches = [bytes(100, 1), bytes(referencedBytesMin, 2), bytes(70_000, 3), bytes(referencedBytesMin - 1, 4)];
    const header = { apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 9, clientId: 'c' };
    const body = (records: (b: Buffer) => Buffer) => ({
      acks: 1,
      timeoutMs: 30_000,
      topics: [{ name: 't', partitions: batches.map((b, partition) => ({ partition, records: records(b) })) }],
    });
    const refs = new ReferencedBytes();
    const chunks = encodeRequestChunks(
      header,
      body((b) => refs.ref(b)),
      refs,
    );
    expect(refs.buffers.length).toBe(2);
    // the referenced batches are the chunks themselves, not copies
    expect(chunks.filter((c) => batches.includes(c)).length).toBe(2);
    expect(
      Buffer.concat(chunks).equals(
        encodeRequest(
          header,
          body((b) => b),
        ),
      ),
    ).toBe(true);
  });

  it('refuses to send a frame whose sentinel was not packed where it was handed out', () => {
    const refs = new ReferencedBytes();
    refs.ref(bytes(referencedBytesMin, 1));
    // the body never holds the sentinel: encoding fails instead of sending a wrong frame
    expect(() => encodeResponseChunks(1, { records: Buffer.alloc(0) }, refs)).toThrow(
      /not where the envelope packed it/,
    );
  });
});
