/**
 * A quota's throttle (request_percentage, or the larger of it and a byte
 * rate) reaches the client in the response: the Kafka codec writes it into
 * throttle_time_ms of any API whose response version has the field; the native
 * codec into Produce and Fetch answers, the only native responses with one.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { decodeResponse, encodeRequest } from '../../../src/protocol/native/frame.js';
import { kafkaCodec } from '../../../src/server/kafka-codec.js';
import { nativeCodec } from '../../../src/server/native-codec.js';

function kafkaPayload(apiKey: number, apiVersion: number, body: Buffer): Buffer {
  const w = new KafkaWriter();
  w.int16(apiKey).int16(apiVersion).int32(9).nullableString('c');
  return Buffer.concat([...w.toBuffers(), body]);
}

describe('listener codecs carry a quota throttle', () => {
  it('Kafka: ApiVersions v1 ends with throttle_time_ms; v0 has no such field', () => {
    const codec = kafkaCodec();
    const v1 = codec.decode(kafkaPayload(ApiKey.ApiVersions, 1, Buffer.alloc(0)));
    const route = codec.route(v1);
    if (!('reply' in route)) throw new Error('ApiVersions is answered by the listener');
    const frame = Buffer.concat(codec.encode(v1, route.reply, 750) ?? []);
    expect(frame.readInt32BE(frame.length - 4)).toBe(750);
    const unthrottled = Buffer.concat(codec.encode(v1, route.reply, 0) ?? []);
    expect(unthrottled.readInt32BE(unthrottled.length - 4)).toBe(0);
    // v0: the same body without the field (4 bytes shorter)
    const v0 = codec.decode(kafkaPayload(ApiKey.ApiVersions, 0, Buffer.alloc(0)));
    expect(Buffer.concat(codec.encode(v0, route.reply, 750) ?? []).length).toBe(frame.length - 4);
  });

  it('Kafka: Metadata v4 carries it as its first field', () => {
    const codec = kafkaCodec();
    // Metadata v4 (throttle_time_ms first): topics null, allow_auto_topic_creation false
    const request = codec.decode(kafkaPayload(ApiKey.Metadata, 4, Buffer.from('ffffffff00', 'hex')));
    const frame = Buffer.concat(
      codec.encode(request, { errorCode: 0, brokers: [], topics: [], controllerId: -1 }, 300) ?? [],
    );
    const r = new KafkaReader(frame.subarray(8));
    expect(r.int32()).toBe(300);
  });

  it('native: Produce and Fetch answers carry throttleTimeMs, others do not', () => {
    const codec = nativeCodec();
    const produce = codec.decode(
      encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 0, correlationId: 1, clientId: 'c' }, {}).subarray(4),
    );
    const answer = decodeResponse(
      Buffer.concat(codec.encode(produce, { errorCode: 0, topics: [] }, 400) ?? []).subarray(4),
    );
    expect(answer.body).toMatchObject({ throttleTimeMs: 400 });
    const metadata = codec.decode(
      encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 0, correlationId: 2, clientId: 'c' }, {}).subarray(4),
    );
    const other = decodeResponse(
      Buffer.concat(codec.encode(metadata, { errorCode: 0, topics: [] }, 400) ?? []).subarray(4),
    );
    expect(other.body).not.toHaveProperty('throttleTimeMs');
  });
});
