/**
 * Kafka request and response framing (src/protocol/kafka/codec.ts), checked
 * against requests built byte by byte: flexible request headers, ApiVersions'
 * v0 response header, the answers to APIs and versions this listener does
 * not speak, and truncated requests.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader } from '../../../src/protocol/binary/primitives.js';
import { apiVersionsApi } from '../../../src/protocol/kafka/apis/api-versions.js';
import { decodeKafkaRequest, encodeKafkaResponse } from '../../../src/protocol/kafka/codec.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkaCodec } from '../../../src/server/kafka-codec.js';
import { isSluiceError } from '../../../src/shared/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const int16 = (n: number): string => (n & 0xffff).toString(16).padStart(4, '0');

/** The response frame's chunks; failing the test when none would be sent. */
function answer(...args: Parameters<typeof encodeKafkaResponse>): Buffer[] {
  const chunks = encodeKafkaResponse(...args);
  if (chunks === null) throw new Error('no response');
  return chunks;
}

function refused(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (err) {
    return isSluiceError(err, 'SLUICE_ERR_INVALID_REQUEST');
  }
}

describe('Kafka request and response framing', () => {
  it('decodes a flexible ApiVersions v3 request and answers with a v0 response header', () => {
    const payload = hex(`
      0012 0003 00000007 0004 ${text('kcat')} 00
      0b ${text('librdkafka')} 06 ${text('2.0.2')} 00`);
    const request = decodeKafkaRequest(payload);
    expect(request.header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 7, clientId: 'kcat' });
    expect(request.api).toBe(apiVersionsApi);
    expect(request.body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
    expect(kafkaCodec().route(request)).toEqual({ reply: {} });

    const frame = Buffer.concat(answer(request, {}));
    const entries = kafkaEnv.supported
      .map((a) => `${int16(a.apiKey)} ${int16(a.minVersion)} ${int16(a.maxVersion)} 00`)
      .join(' ');
    const body = hex(`
      00000007
      0000 ${(kafkaEnv.supported.length + 1).toString(16).padStart(2, '0')} ${entries}
      00000000 00`);
    // KIP-511: no tagged fields in ApiVersions' response header, whatever the version
    expect(frame.toString('hex')).toBe(
      Buffer.concat([hex(body.length.toString(16).padStart(8, '0')), body]).toString('hex'),
    );
    expect(kafkaEnv.supported[0]).toEqual({ apiKey: 0, minVersion: 0, maxVersion: 9 });
  });

  it('decodes a classic request and routes it to the native handler', () => {
    const payload = hex(`000a 0002 0000002a 0001 ${text('c')} 0001 ${text('g')} 00`);
    const request = decodeKafkaRequest(payload);
    expect(request.header).toEqual({ apiKey: 10, apiVersion: 2, correlationId: 42, clientId: 'c' });
    expect(request.body).toEqual({ key: 'g', keyType: 0, coordinatorKeys: [] });
    expect(kafkaCodec().route(request)).toEqual({ apiKey: 10, body: { key: 'g' } });
    const frame = Buffer.concat(answer(request, { errorCode: 0, nodeId: 1, host: 'h', port: 9092, kafkaPort: 19092 }));
    expect(frame.toString('hex')).toBe(
      hex(`00000017 0000002a 00000000 0000 ffff 00000001 0001 ${text('h')} 00004a94`).toString('hex'),
    );
  });

  it('answers an API it does not speak with a body that is int16 UNSUPPORTED_VERSION', () => {
    for (const header of ['0039 0000', '0000 000a', '0002 0008', '0001 000e']) {
      const request = decodeKafkaRequest(hex(`${header} 00000009 ffff 0102030405`));
      expect(request.api).toBeUndefined();
      expect(request.header.correlationId).toBe(9);
      expect(kafkaCodec().route(request)).toEqual({ reply: {} });
      expect(Buffer.concat(answer(request, {})).toString('hex')).toBe('00000006000000090023');
    }
  });

  it('answers ApiVersions v9 with a v0 response: UNSUPPORTED_VERSION and the full list', () => {
    const request = decodeKafkaRequest(hex(`0012 0009 00000003 ffff 00 ffffff`));
    expect(request.api).toBeUndefined();
    const frame = Buffer.concat(answer(request, {}));
    const r = new KafkaReader(frame);
    expect(r.int32()).toBe(frame.length - 4);
    expect(r.int32()).toBe(3);
    expect(r.int16()).toBe(35);
    const apis = r.array((x) => ({ apiKey: x.int16(), minVersion: x.int16(), maxVersion: x.int16() }));
    expect(apis).toEqual(kafkaEnv.supported);
    expect(r.remaining).toBe(0);
  });

  it('sends nothing for a produce with acks 0, even when the request failed', () => {
    const produce = (acks: string) =>
      decodeKafkaRequest(
        hex(`0000 0003 00000005 ffff ffff ${acks} 00001000 00000001 0001 ${text('t')} 00000001 00000000 ffffffff`),
      );
    const silent = produce('0000');
    expect(silent.body).toMatchObject({ acks: 0 });
    expect(encodeKafkaResponse(silent, { errorCode: 42, errorMessage: 'bad' })).toBeNull();
    expect(encodeKafkaResponse(produce('0001'), { errorCode: 42, errorMessage: 'bad' })).not.toBeNull();
  });

  it('refuses truncated requests with InvalidRequest', () => {
    // a header cut short
    expect(refused(() => decodeKafkaRequest(hex('0003 0001 0000')))).toBe(true);
    // Metadata v1 claiming five topics and carrying none
    expect(refused(() => decodeKafkaRequest(hex(`0003 0001 00000001 ffff 00000005`)))).toBe(true);
    // a string longer than what is left
    expect(refused(() => decodeKafkaRequest(hex(`000a 0000 00000001 ffff 0005 ${text('ab')}`)))).toBe(true);
    // a flexible request without its header's tagged fields
    expect(refused(() => decodeKafkaRequest(hex(`0012 0003 00000001 ffff`)))).toBe(true);
  });
});
