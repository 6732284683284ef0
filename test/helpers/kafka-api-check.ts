/**
 * Byte-level checks of one Kafka API module (the pattern of
 * test/unit/protocol/kafka-apis.test.ts, shared with the group APIs' tests):
 * a request as kafkajs 2.2.4's encoder writes it, or laid out by hand, is
 * read by our schema to its last byte; our response is read by kafkajs's
 * decoder to its last byte, or compared with bytes laid out by hand.
 */
import { expect } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../src/protocol/binary/primitives.js';
import type { KafkaApi, NativeResult } from '../../src/protocol/kafka/api.js';
import { kafkaEnv } from '../../src/protocol/kafka/registry.js';
import { kafkajsRequest, kafkajsResponse } from './kafkajs-protocol.js';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A classic string as hex: int16 length, UTF-8 bytes. */
export const s = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};

/** A compact string as hex (flexible versions): unsigned varint length+1 (under 127 bytes here), UTF-8 bytes. */
export const cs = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  if (b.length + 1 > 0x7f) throw new Error('cs() lays out short strings only');
  return (b.length + 1).toString(16).padStart(2, '0') + b.toString('hex');
};

export const versionAt = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({
  version,
  flexible: version >= api.flexibleFrom,
});

/** Reads a request body with our schema; every byte must be consumed. */
export function readRequest<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, versionAt(api, version));
  expect(r.remaining).toBe(0);
  return req;
}

/** A request body as kafkajs's encoder writes it, read by our schema. */
export async function fromKafkajs<Req, Res>(
  api: KafkaApi<Req, Res>,
  name: string,
  version: number,
  args: unknown,
): Promise<Req> {
  const { apiKey, apiVersion, body } = await kafkajsRequest(name, version, args as object);
  expect(apiKey).toBe(api.kafkaApiKey ?? api.apiKey);
  expect(apiVersion).toBe(version);
  return readRequest(api, version, body);
}

/** Our response to `req` from the native answer: the adapter, then the schema. */
export function writeResponse<Req, Res>(
  api: KafkaApi<Req, Res>,
  version: number,
  native: NativeResult,
  req: Req,
): Buffer {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), versionAt(api, version));
  return w.toBuffer();
}

/** Our response as kafkajs's decoder reads it; kafkajs must read every byte. */
export async function toKafkajs<Req, Res>(
  api: KafkaApi<Req, Res>,
  name: string,
  version: number,
  native: NativeResult,
  req: Req,
): Promise<Record<string, unknown>> {
  const body = writeResponse(api, version, native, req);
  const { decoded, consumed } = await kafkajsResponse(name, version, body);
  expect(consumed).toBe(body.length);
  return decoded;
}
