/**
 * The native listener's frame generator: pure, (seed, index) → one frame.
 * Valid requests of every native API, the same with hostile MessagePack
 * values in their bodies or envelopes, Produce requests with bad record
 * batches, byte-level mutations of valid frames, and random bytes.
 */
import { ApiKey, apiName } from '../../src/protocol/native/api-keys.js';
import { mutateFrame, randomFrame, sizePrefixed } from './frame-mutations.js';
import type { FuzzFrame } from './fuzz-frame.js';
import { hostileValue } from './hostile-msgpack.js';
import { type MsgValue, RawMsgpack, writeMsgpack } from './msgpack-writer.js';
import { nativeApiKeys, nativeBody, smallBatch } from './native-bodies.js';
import { frameSeed, Random } from './random.js';
import { mutateBatch } from './record-batch-mutations.js';

export const nativeKinds = [
  'valid',
  'hostile-msgpack',
  'hostile-envelope',
  'bad-batch',
  'random-bytes',
  'frame-mutation',
] as const;

type Container = MsgValue[] | { [key: string]: MsgValue };

function isContainer(v: MsgValue): v is Container {
  return v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof RawMsgpack);
}

/** Every (container, key) slot under `value`, depth first. */
function slots(value: MsgValue, out: { parent: Container; key: string | number }[] = []): typeof out {
  if (!isContainer(value)) return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      slots(v, out);
    });
  } else {
    for (const k of Object.keys(value)) {
      out.push({ parent: value, key: k });
      slots(value[k] as MsgValue, out);
    }
  }
  return out;
}

/** Replaces, removes or adds 1-3 fields of `body` (in place) with hostile values; returns their labels. */
function poison(body: MsgValue, random: Random): string {
  const labels: string[] = [];
  for (let n = random.between(1, 3); n > 0; n--) {
    const all = slots(body);
    const arrays = all.filter((s) => Array.isArray(s.parent));
    if (arrays.length > 0 && random.chance(0.25)) {
      // an element of a list is null: the shape a handler iterating the list trips on
      const { parent, key } = random.pick(arrays);
      (parent as MsgValue[])[key as number] = null;
      labels.push('null-element');
      continue;
    }
    const hostile = hostileValue(random);
    if (all.length === 0 || random.chance(0.1)) {
      if (isContainer(body) && !Array.isArray(body)) {
        // an own property, so even '__proto__' becomes a key on the wire (assignment would set the prototype)
        const key = random.pick(['topics', 'groups', 'x', '__proto__']);
        Object.defineProperty(body, key, {
          value: hostile.value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      labels.push(`add:${hostile.label}`);
      continue;
    }
    const { parent, key } = random.pick(all);
    if (random.chance(0.1)) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      labels.push('remove');
    } else if (Array.isArray(parent) && random.chance(0.2)) {
      parent.push(hostile.value);
      labels.push(`append:${hostile.label}`);
    } else {
      (parent as Record<string | number, MsgValue>)[key] = hostile.value;
      labels.push(hostile.label);
    }
  }
  return labels.join('+');
}

function envelope(
  apiKey: MsgValue,
  apiVersion: MsgValue,
  correlationId: MsgValue,
  clientId: MsgValue,
  body: MsgValue,
): Buffer {
  return writeMsgpack([apiKey, apiVersion, correlationId, clientId, body]);
}

/** An envelope with one hostile element (or the wrong element count). */
function hostileEnvelope(
  apiKey: number,
  body: MsgValue,
  correlationId: number,
  random: Random,
): { payload: Buffer; detail: string } {
  const parts: MsgValue[] = [apiKey, 0, correlationId, 'fuzz', body];
  if (random.chance(0.2)) {
    const drop = random.chance(0.5);
    const list = drop ? parts.slice(0, random.int(5)) : [...parts, null];
    return { payload: writeMsgpack(list), detail: drop ? 'short-envelope' : 'long-envelope' };
  }
  const at = random.int(5);
  const hostile =
    at === 1 && random.chance(0.5)
      ? { value: random.pick([-1, 1, 99, 0x7fff]), label: 'version' }
      : hostileValue(random);
  parts[at] = hostile.value;
  return {
    payload: envelope(...(parts as [MsgValue, MsgValue, MsgValue, MsgValue, MsgValue])),
    detail: `envelope[${at}]:${hostile.label}`,
  };
}

/** Frame `index` of a run seeded `seed` on the native listener. */
export function nativeFrame(seed: number, index: number, maxFrameBytes: number): FuzzFrame {
  const random = new Random(frameSeed(seed, 'native', index));
  const kind = random.pick(nativeKinds);
  const apiKey = kind === 'bad-batch' ? ApiKey.Produce : random.pick(nativeApiKeys);
  const correlationId = index + 1;
  const frame = (bytes: Buffer, detail = ''): FuzzFrame => ({
    listener: 'native',
    index,
    kind,
    detail,
    api: apiName(apiKey),
    bytes,
  });
  switch (kind) {
    case 'random-bytes':
      return { ...frame(randomFrame(random)), api: '-' };
    case 'bad-batch': {
      let detail = '';
      const body = nativeBody(apiKey, random, (r) => {
        const m = mutateBatch(smallBatch(r), r, smallBatch(r));
        detail = m.kind;
        return m.bytes;
      });
      return frame(sizePrefixed(envelope(apiKey, 0, correlationId, 'fuzz', body)), detail);
    }
    case 'hostile-msgpack': {
      const body = nativeBody(apiKey, random);
      const detail = poison(body, random);
      return frame(sizePrefixed(envelope(apiKey, 0, correlationId, 'fuzz', body)), detail);
    }
    case 'hostile-envelope': {
      const { payload, detail } = hostileEnvelope(apiKey, nativeBody(apiKey, random), correlationId, random);
      return frame(sizePrefixed(payload), detail);
    }
    case 'frame-mutation': {
      const payload = envelope(apiKey, 0, correlationId, 'fuzz', nativeBody(apiKey, random));
      // the envelope's first bytes (array head, api key, version) are spared most of the time
      const m = mutateFrame(payload, random, 4, maxFrameBytes);
      return frame(m.bytes, m.kind);
    }
    default:
      return frame(sizePrefixed(envelope(apiKey, 0, correlationId, 'fuzz', nativeBody(apiKey, random))));
  }
}
