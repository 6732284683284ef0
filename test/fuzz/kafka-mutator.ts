/**
 * The Kafka listener's frame generator: pure, (templates, seed, index) → one
 * frame. kafkajs-encoded requests of every advertised API, valid or with
 * bogus array/string lengths, bits flipped, bytes cut or added, lying length
 * prefixes, unknown APIs and versions, and random bytes.
 */
import { kafkaApiName } from '../../src/protocol/kafka/codec.js';
import { mutateFrame, randomFrame, sizePrefixed } from './frame-mutations.js';
import type { FuzzFrame } from './fuzz-frame.js';
import type { KafkaTemplate } from './kafka-templates.js';
import { frameSeed, Random } from './random.js';

export const kafkaKinds = [
  'valid',
  'bogus-length',
  'unknown-api',
  'random-bytes',
  'frame-mutation',
  'frame-mutation',
] as const;

/** Request header v1: api key, version, correlation id, client id "fuzz". */
export const kafkaHeaderBytes = 2 + 2 + 4 + 2 + 4;

export function kafkaPayload(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(kafkaHeaderBytes);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(4, 8);
  header.write('fuzz', 10);
  return Buffer.concat([header, body]);
}

/**
 * Where `body` probably holds a length: an int16 string length followed by
 * that many printable bytes, or an int32 array count of 1-64. A heuristic,
 * so it needs no schema, and kafkajs's encoders write exactly these.
 */
export function lengthFields(body: Buffer): { at: number; width: 2 | 4 }[] {
  const out: { at: number; width: 2 | 4 }[] = [];
  for (let at = 0; at + 2 <= body.length; at++) {
    const len = body.readInt16BE(at);
    if (len > 0 && at + 2 + len <= body.length) {
      let printable = true;
      for (let i = at + 2; i < at + 2 + len && printable; i++)
        printable = (body[i] as number) >= 0x20 && (body[i] as number) < 0x7f;
      if (printable) out.push({ at, width: 2 });
    }
    if (at + 4 <= body.length) {
      const count = body.readInt32BE(at);
      if (count >= 1 && count <= 64) out.push({ at, width: 4 });
    }
  }
  return out;
}

const int16Lies = [-1, -2, 0, 0x7fff, -0x8000] as const;
const int32Lies = [-1, -2, 0, 0x7fffffff, -0x80000000, 0x10000000, 65536] as const;

function bogusLength(body: Buffer, random: Random): { body: Buffer; detail: string } {
  const fields = lengthFields(body);
  if (fields.length === 0) return { body, detail: 'none-found' };
  const out = Buffer.from(body);
  const { at, width } = random.pick(fields);
  if (width === 2) {
    const old = out.readInt16BE(at);
    out.writeInt16BE(random.pick([...int16Lies, old + 1, old - 1]), at);
    return { body: out, detail: 'string' };
  }
  const old = out.readInt32BE(at);
  out.writeInt32BE(random.pick([...int32Lies, old + 1, old - 1]) | 0, at);
  return { body: out, detail: 'array' };
}

/** Frame `index` of a run seeded `seed` on the Kafka listener. */
export function kafkaFrame(
  templates: readonly KafkaTemplate[],
  seed: number,
  index: number,
  maxFrameBytes: number,
): FuzzFrame {
  const random = new Random(frameSeed(seed, 'kafka', index));
  const kind = random.pick(kafkaKinds);
  const t = random.pick(templates);
  const correlationId = index + 1;
  const frame = (bytes: Buffer, detail = ''): FuzzFrame => ({
    listener: 'kafka',
    index,
    kind,
    detail,
    api: `${kafkaApiName(t.apiKey)} v${t.apiVersion}`,
    bytes,
  });
  switch (kind) {
    case 'random-bytes':
      return { ...frame(randomFrame(random)), api: '-' };
    case 'unknown-api': {
      const apiKey = random.chance(0.5) ? t.apiKey : random.int(0x10000) - 0x8000;
      const apiVersion = apiKey === t.apiKey ? random.pick([-1, 99, 0x7fff, t.apiVersion + 20]) : random.int(12);
      return {
        ...frame(sizePrefixed(kafkaPayload(apiKey, apiVersion, correlationId, t.body))),
        api: `${kafkaApiName(apiKey)} v${apiVersion}`,
      };
    }
    case 'bogus-length': {
      const m = bogusLength(t.body, random);
      return frame(sizePrefixed(kafkaPayload(t.apiKey, t.apiVersion, correlationId, m.body)), m.detail);
    }
    case 'frame-mutation': {
      const m = mutateFrame(
        kafkaPayload(t.apiKey, t.apiVersion, correlationId, t.body),
        random,
        kafkaHeaderBytes,
        maxFrameBytes,
      );
      return frame(m.bytes, m.kind);
    }
    default:
      return frame(sizePrefixed(kafkaPayload(t.apiKey, t.apiVersion, correlationId, t.body)));
  }
}
