/**
 * Both listener codecs check a request's native body against its API's
 * shape before routing it to a handler: a malformed one is answered
 * INVALID_REQUEST naming the field (the handler is never called) and logged
 * through the shared bounded refusal log; msgpack beyond the decoder's bounds
 * is not decoded at all.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { decodeKafkaRequest } from '../../../src/protocol/kafka/codec.js';
import { kafkaApis } from '../../../src/protocol/kafka/registry.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { encodeRequest } from '../../../src/protocol/native/frame.js';
import { kafkaCodec } from '../../../src/server/kafka-codec.js';
import { nativeCodec } from '../../../src/server/native-codec.js';
import { type Refusal, RefusedRequests } from '../../../src/server/refused-requests.js';
import { isSluiceError } from '../../../src/shared/errors.js';
import type { Logger } from '../../../src/shared/logger.js';

function recorder(): { refusals: RefusedRequests; seen: Refusal[] } {
  const seen: Refusal[] = [];
  const logger = { warn: (fields: Refusal) => seen.push(fields) } as unknown as Logger;
  return { refusals: new RefusedRequests(logger), seen };
}

function nativePayload(body: unknown): Buffer {
  return encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 3, clientId: 'c' }, body).subarray(4);
}

describe('listener codecs refuse malformed bodies before routing', () => {
  it('native: null in topics is INVALID_REQUEST naming topics[0], logged once, never routed', () => {
    const { refusals, seen } = recorder();
    const codec = nativeCodec(refusals);
    const request = codec.decode(nativePayload({ acks: 1, timeoutMs: 1, topics: [null] }));
    expect(codec.route(request)).toEqual({
      reply: {
        errorCode: WireError.INVALID_REQUEST,
        errorMessage: 'malformed Produce request: topics[0] must be a map',
      },
    });
    expect(seen).toEqual([
      {
        listener: 'native',
        api: 'Produce',
        clientId: 'c',
        reason: 'malformed Produce request: topics[0] must be a map',
      },
    ]);
    const good = codec.decode(nativePayload({ acks: 1, timeoutMs: 1, topics: [] }));
    expect(codec.route(good)).toEqual({ apiKey: ApiKey.Produce, body: { acks: 1, timeoutMs: 1, topics: [] } });
  });

  it('native: msgpack beyond the bounds is not decoded (the connection closes)', () => {
    const codec = nativeCodec();
    // [0, 0, 3, 'c', [[[...nil]]]]
    const deep = Buffer.concat([
      Buffer.from([0x95, 0, 0, 3, 0xa1, 0x63]),
      Buffer.alloc(100, 0x91),
      Buffer.from([0xc0]),
    ]);
    expect(() => codec.decode(deep)).toThrow(/undecodable request: msgpack nested deeper than/);
    try {
      codec.decode(deep);
    } catch (err) {
      expect(isSluiceError(err, 'SLUICE_ERR_INVALID_REQUEST')).toBe(true);
    }
  });

  it('kafka: an adapted body the shapes refuse is answered INVALID_REQUEST, in Kafka form', () => {
    const { refusals, seen } = recorder();
    const codec = kafkaCodec(refusals);
    const api = kafkaApis.get(0);
    if (!api) throw new Error('no Produce');
    const w = new KafkaWriter();
    w.int16(0).int16(3).int32(9).nullableString('k');
    api.request.write(
      w,
      { acks: 5, timeoutMs: 1, topics: [{ name: 't', partitions: [{ index: 0, records: null }] }] },
      {
        version: 3,
        flexible: false,
      },
    );
    const request = decodeKafkaRequest(w.toBuffer());
    const route = codec.route(request);
    expect(route).toEqual({
      reply: {
        errorCode: WireError.INVALID_REQUEST,
        errorMessage: 'malformed Produce request: acks must be one of 0, 1, -1',
      },
    });
    expect(seen.map((s) => s.listener)).toEqual(['kafka']);
    // every partition carries the refusal, in Produce v3's response
    const frame = Buffer.concat(codec.encode(request, 'reply' in route ? route.reply : {}) ?? []);
    expect(frame.readInt32BE(4)).toBe(9);
    const response = api.response.read(new KafkaReader(frame.subarray(8)), { version: 3, flexible: false });
    expect(response.responses[0].partitionResponses[0]).toMatchObject({
      index: 0,
      errorCode: WireError.INVALID_REQUEST,
    });
  });
});
