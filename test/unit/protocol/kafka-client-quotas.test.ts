/**
 * DescribeClientQuotas (48) and AlterClientQuotas (49) v0-v1 against bytes
 * laid out by hand from Kafka's message schemas
 * (DescribeClientQuotasRequest/Response.json, AlterClientQuotasRequest/Response.json;
 * kafkajs 2.2.4 has neither API). v1 is flexible.
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { alterClientQuotasApi, describeClientQuotasApi } from '../../../src/protocol/kafka/apis/client-quotas.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};
const cstr = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return (b.length + 1).toString(16).padStart(2, '0') + b.toString('hex');
};
const carr = (n: number): string => (n + 1).toString(16).padStart(2, '0');
const noTags = '00';
/** 1024 as a big-endian IEEE 754 double. */
const f1024 = '4090000000000000';

const at = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({ version, flexible: version >= api.flexibleFrom });

function readRequest<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, at(api, version));
  expect(r.remaining).toBe(0);
  return req;
}

function writeResponse<Req, Res>(api: KafkaApi<Req, Res>, version: number, native: NativeResult, req: Req): Buffer {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), at(api, version));
  return w.toBuffer();
}

describe('DescribeClientQuotas (48)', () => {
  const native = {
    errorCode: 0,
    entries: [
      {
        entity: [{ entityType: 'user', entityName: 'alice' }],
        values: [{ key: 'producer_byte_rate', value: 1024 }],
      },
    ],
  };
  const expected = { components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: true };

  it('reads v0 and answers in its layout', () => {
    const req = readRequest(describeClientQuotasApi, 0, hex(`00000001 ${str('user')} 00 ${str('alice')} 01`));
    expect(describeClientQuotasApi.toNative?.(req, 0)).toEqual(expected);
    expect(writeResponse(describeClientQuotasApi, 0, native, req)).toEqual(
      hex(
        `00000000 0000 ffff 00000001 00000001 ${str('user')} ${str('alice')} 00000001 ${str('producer_byte_rate')} ${f1024}`,
      ),
    );
  });

  it('reads v1 (flexible) and answers in its layout', () => {
    const req = readRequest(
      describeClientQuotasApi,
      1,
      hex(`${carr(1)} ${cstr('user')} 00 ${cstr('alice')} ${noTags} 01 ${noTags}`),
    );
    expect(describeClientQuotasApi.toNative?.(req, 1)).toEqual(expected);
    expect(writeResponse(describeClientQuotasApi, 1, native, req)).toEqual(
      hex(
        `00000000 0000 00 ${carr(1)} ${carr(1)} ${cstr('user')} ${cstr('alice')} ${noTags}` +
          ` ${carr(1)} ${cstr('producer_byte_rate')} ${f1024} ${noTags} ${noTags} ${noTags}`,
      ),
    );
  });
});

describe('AlterClientQuotas (49)', () => {
  const expected = {
    entries: [
      {
        entity: [
          { entityType: 'user', entityName: 'alice' },
          { entityType: 'client-id', entityName: null },
        ],
        ops: [
          { key: 'producer_byte_rate', value: 1024, remove: false },
          { key: 'consumer_byte_rate', value: 0, remove: true },
        ],
      },
    ],
    validateOnly: false,
  };
  const native = { errorCode: 0, entries: [{ entity: expected.entries[0]?.entity ?? [], errorCode: 0 }] };

  it('reads v0 and answers in its layout', () => {
    const req = readRequest(
      alterClientQuotasApi,
      0,
      hex(
        `00000001 00000002 ${str('user')} ${str('alice')} ${str('client-id')} ffff` +
          ` 00000002 ${str('producer_byte_rate')} ${f1024} 00 ${str('consumer_byte_rate')} 0000000000000000 01 00`,
      ),
    );
    expect(alterClientQuotasApi.toNative?.(req, 0)).toEqual(expected);
    expect(writeResponse(alterClientQuotasApi, 0, native, req)).toEqual(
      hex(`00000000 00000001 0000 ffff 00000002 ${str('user')} ${str('alice')} ${str('client-id')} ffff`),
    );
  });

  it('reads v1 (flexible) and answers in its layout', () => {
    const req = readRequest(
      alterClientQuotasApi,
      1,
      hex(
        `${carr(1)} ${carr(2)} ${cstr('user')} ${cstr('alice')} ${noTags} ${cstr('client-id')} 00 ${noTags}` +
          ` ${carr(2)} ${cstr('producer_byte_rate')} ${f1024} 00 ${noTags}` +
          ` ${cstr('consumer_byte_rate')} 0000000000000000 01 ${noTags} ${noTags} 00 ${noTags}`,
      ),
    );
    expect(alterClientQuotasApi.toNative?.(req, 1)).toEqual(expected);
    expect(writeResponse(alterClientQuotasApi, 1, native, req)).toEqual(
      hex(
        `00000000 ${carr(1)} 0000 00 ${carr(2)} ${cstr('user')} ${cstr('alice')} ${noTags} ${cstr('client-id')} 00 ${noTags}` +
          ` ${noTags} ${noTags}`,
      ),
    );
  });
});
