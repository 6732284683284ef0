/**
 * The Kafka listener's SASL and SCRAM-credential APIs (issue 17) against
 * independent layouts: SaslHandshake v1 and SaslAuthenticate v0-v1 as
 * kafkajs 2.2.4 encodes and decodes them; SaslAuthenticate v2,
 * DescribeUserScramCredentials v0 and AlterUserScramCredentials v0 (which
 * kafkajs does not speak) against bytes laid out by hand from Kafka's message
 * schemas (flexible: compact lengths are length + 1, a tagged-field count ends
 * each struct).
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { alterUserScramCredentialsApi } from '../../../src/protocol/kafka/apis/alter-user-scram-credentials.js';
import { describeUserScramCredentialsApi } from '../../../src/protocol/kafka/apis/describe-user-scram-credentials.js';
import { saslAuthenticateApi } from '../../../src/protocol/kafka/apis/sasl-authenticate.js';
import { saslHandshakeApi } from '../../../src/protocol/kafka/apis/sasl-handshake.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkajsRequest, kafkajsResponse } from '../../helpers/kafkajs-protocol.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** A compact string as hex (uvarint length + 1, then UTF-8; names here are short). */
const cs = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return (b.length + 1).toString(16).padStart(2, '0') + b.toString('hex');
};
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

describe('SaslHandshake (17)', () => {
  it('reads kafkajs v1 requests and answers what kafkajs decodes', async () => {
    const { apiKey, body } = await kafkajsRequest('saslHandshake', 1, { mechanism: 'SCRAM-SHA-512' });
    expect(apiKey).toBe(17);
    const req = readRequest(saslHandshakeApi, 1, body);
    expect(saslHandshakeApi.toNative?.(req, 1)).toEqual({ mechanism: 'SCRAM-SHA-512', rawTokens: false });
    const out = writeResponse(saslHandshakeApi, 1, { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] }, req);
    const { decoded, consumed } = await kafkajsResponse('saslHandshake', 1, out);
    expect(consumed).toBe(out.length);
    expect(decoded).toEqual({ errorCode: 0, enabledMechanisms: ['PLAIN', 'SCRAM-SHA-512'] });
    const refused = writeResponse(
      saslHandshakeApi,
      1,
      { errorCode: WireError.UNSUPPORTED_SASL_MECHANISM, errorMessage: 'no', mechanisms: ['PLAIN'] },
      req,
    );
    expect(refused).toEqual(hex(`0021 00000001 0005${Buffer.from('PLAIN').toString('hex')}`));
  });
});

describe('SaslAuthenticate (36)', () => {
  it('reads kafkajs v0 and v1 requests and answers what kafkajs decodes', async () => {
    for (const v of [0, 1]) {
      // kafkajs's mechanisms hand the request its bytes already size-prefixed (Kafka's BYTES)
      const message = Buffer.from('n,,n=u,r=x');
      const sized = Buffer.concat([hex(message.length.toString(16).padStart(8, '0')), message]);
      const { apiKey, body } = await kafkajsRequest('saslAuthenticate', v, { authBytes: sized });
      expect(apiKey).toBe(36);
      const req = readRequest(saslAuthenticateApi, v, body);
      expect(req.authBytes.toString()).toBe('n,,n=u,r=x');
      const out = writeResponse(
        saslAuthenticateApi,
        v,
        { errorCode: 0, authBytes: Buffer.from('r=xy,s=c2FsdA==,i=4096'), sessionLifetimeMs: 0 },
        req,
      );
      const { decoded, consumed } = await kafkajsResponse<Record<string, unknown>>('saslAuthenticate', v, out);
      expect(consumed).toBe(out.length);
      expect(decoded.errorCode).toBe(0);
      expect(decoded.errorMessage).toBeNull();
      if (v === 1) expect(decoded.sessionLifetimeMs).toBe('0');
    }
  });

  it('lays out v2 (flexible) as the schema says, failures with their message', () => {
    const req = readRequest(saslAuthenticateApi, 2, hex(`04 616263 00`));
    expect(req.authBytes.toString()).toBe('abc');
    const out = writeResponse(
      saslAuthenticateApi,
      2,
      { errorCode: WireError.SASL_AUTHENTICATION_FAILED, errorMessage: 'bad' },
      req,
    );
    // error_code, compact nullable error_message, compact bytes (empty), session_lifetime_ms, tags
    expect(out).toEqual(hex(`003a ${cs('bad')} 01 0000000000000000 00`));
  });
});

describe('DescribeUserScramCredentials (50)', () => {
  it('reads v0 requests (null: every user; a list of names) and lays out the response', () => {
    const all = readRequest(describeUserScramCredentialsApi, 0, hex('00 00'));
    expect(describeUserScramCredentialsApi.toNative?.(all, 0)).toEqual({ users: null });
    const two = readRequest(describeUserScramCredentialsApi, 0, hex(`03 ${cs('alice')} 00 ${cs('bob')} 00 00`));
    expect(describeUserScramCredentialsApi.toNative?.(two, 0)).toEqual({ users: ['alice', 'bob'] });
    const out = writeResponse(
      describeUserScramCredentialsApi,
      0,
      {
        errorCode: 0,
        results: [
          { user: 'alice', errorCode: 0, credentials: [{ mechanism: 2, iterations: 4096 }] },
          { user: 'bob', errorCode: WireError.RESOURCE_NOT_FOUND, errorMessage: 'x', credentials: [] },
        ],
      },
      two,
    );
    expect(out).toEqual(
      hex(
        `00000000 0000 00 03` +
          ` ${cs('alice')} 0000 00 02 02 00001000 00 00` +
          ` ${cs('bob')} 005b ${cs('x')} 01 00` +
          ` 00`,
      ),
    );
  });
});

describe('AlterUserScramCredentials (51)', () => {
  it('reads v0 deletions and upsertions and lays out per-user results', () => {
    const body = hex(`02 ${cs('bob')} 01 00 02 ${cs('alice')} 02 00001000 03 aabb 03 ccdd 00 00`);
    const req = readRequest(alterUserScramCredentialsApi, 0, body);
    expect(alterUserScramCredentialsApi.toNative?.(req, 0)).toEqual({
      deletions: [{ name: 'bob', mechanism: 1 }],
      upsertions: [{ name: 'alice', mechanism: 2, iterations: 4096, salt: hex('aabb'), saltedPassword: hex('ccdd') }],
    });
    const out = writeResponse(
      alterUserScramCredentialsApi,
      0,
      {
        errorCode: 0,
        results: [
          { user: 'bob', errorCode: 0 },
          { user: 'alice', errorCode: WireError.UNACCEPTABLE_CREDENTIAL, errorMessage: 'y' },
        ],
      },
      req,
    );
    expect(out).toEqual(hex(`00000000 03 ${cs('bob')} 0000 00 00 ${cs('alice')} 005d ${cs('y')} 00 00`));
    // refused as a whole: the error on every user named
    const whole = writeResponse(alterUserScramCredentialsApi, 0, { errorCode: WireError.INVALID_REQUEST }, req);
    expect(whole).toEqual(hex(`00000000 03 ${cs('bob')} 002a 00 00 ${cs('alice')} 002a 00 00 00`));
  });
});
