/**
 * A bounded walk over a native request's msgpack bytes before msgpackr
 * decodes them. msgpackr itself is not bounded the way a broker needs:
 *
 * - amplification: one byte (0x80, an empty map) becomes a JavaScript object
 *   of ~60 bytes, so a 100 MiB frame of them would take gigabytes to decode;
 * - depth: it recurses once per nesting level, so a deeply nested frame ends
 *   in a stack overflow;
 * - extensions: it builds Sets, Maps, RegExps, Errors, typed arrays, BigInts
 *   and its own record structures from extension types, some of which throw
 *   TypeErrors of its own on hostile input.
 *
 * So the bytes are walked first, without recursion and without allocating per
 * item: at most requestMsgpackItemsMax values, nested at most
 * requestMsgpackDepthMax deep, and only two extension types, the ones a
 * client's request can carry: msgpackr's `undefined` (type 0) and the
 * standard timestamp (type -1, a Date, which no request shape accepts but
 * which is harmless to decode). Anything else is refused before a single
 * object is built.
 */
import { requestMsgpackDepthMax, requestMsgpackItemsMax } from '../../shared/limits.js';

const undefinedExtension = 0;
const timestampExtension = -1;

/** Why `payload` may not be decoded, or undefined when it may. */
export function msgpackBoundsProblem(payload: Buffer): string | undefined {
  // remaining values to read at each open container level (maps count keys and values)
  const remaining: number[] = [1];
  let pos = 0;
  let items = 0;
  const end = payload.length;
  while (remaining.length > 0) {
    const top = remaining.length - 1;
    if ((remaining[top] as number) === 0) {
      remaining.pop();
      continue;
    }
    remaining[top] = (remaining[top] as number) - 1;
    if (pos >= end) return 'truncated msgpack';
    if (++items > requestMsgpackItemsMax) return `more than ${requestMsgpackItemsMax} msgpack values`;
    const byte = payload[pos] as number;
    pos++;
    let skip = 0;
    let children = 0;
    if (byte <= 0x7f || byte >= 0xe0 || byte === 0xc0 || byte === 0xc2 || byte === 0xc3) {
      // fixint, nil, booleans
    } else if (byte <= 0x8f) children = (byte & 0x0f) * 2;
    else if (byte <= 0x9f) children = byte & 0x0f;
    else if (byte <= 0xbf) skip = byte & 0x1f;
    else {
      const sized = lengthOf(payload, pos, byte);
      if (sized === undefined) return `msgpack type 0x${byte.toString(16)} is not accepted`;
      if (pos + sized.header > end) return 'truncated msgpack';
      if (sized.ext !== undefined) {
        const type = payload.readInt8(pos + sized.header - 1);
        if (type !== undefinedExtension && type !== timestampExtension)
          return `msgpack extension ${type} is not accepted`;
      }
      pos += sized.header;
      skip = sized.bytes;
      children = sized.children;
    }
    if (skip > end - pos) return 'truncated msgpack';
    pos += skip;
    if (children > 0) {
      if (remaining.length >= requestMsgpackDepthMax) return `msgpack nested deeper than ${requestMsgpackDepthMax}`;
      // a container cannot hold more values than bytes are left: a lie, refused before counting on it
      if (children > end - pos) return 'truncated msgpack';
      remaining.push(children);
    }
  }
  return pos === end ? undefined : 'bytes after the msgpack value';
}

interface Sized {
  /** Bytes of length (and extension type) after the type byte. */
  header: number;
  /** Data bytes after the header. */
  bytes: number;
  /** Values inside (arrays, maps). */
  children: number;
  ext?: true;
}

/** The layout of a type byte from 0xc4 to 0xdf at `pos` (just after it); undefined for 0xc1 and unknown ones. */
function lengthOf(b: Buffer, pos: number, type: number): Sized | undefined {
  const need = (n: number) => pos + n <= b.length;
  switch (type) {
    case 0xc4:
    case 0xd9:
      return need(1) ? { header: 1, bytes: b.readUInt8(pos), children: 0 } : { header: 1, bytes: 0, children: 0 };
    case 0xc5:
    case 0xda:
      return need(2) ? { header: 2, bytes: b.readUInt16BE(pos), children: 0 } : { header: 2, bytes: 0, children: 0 };
    case 0xc6:
    case 0xdb:
      return need(4) ? { header: 4, bytes: b.readUInt32BE(pos), children: 0 } : { header: 4, bytes: 0, children: 0 };
    case 0xc7:
      return need(1)
        ? { header: 2, bytes: b.readUInt8(pos), children: 0, ext: true }
        : { header: 2, bytes: 0, children: 0 };
    case 0xc8:
      return need(2)
        ? { header: 3, bytes: b.readUInt16BE(pos), children: 0, ext: true }
        : { header: 3, bytes: 0, children: 0 };
    case 0xc9:
      return need(4)
        ? { header: 5, bytes: b.readUInt32BE(pos), children: 0, ext: true }
        : { header: 5, bytes: 0, children: 0 };
    case 0xca:
      return { header: 0, bytes: 4, children: 0 };
    case 0xcb:
      return { header: 0, bytes: 8, children: 0 };
    case 0xcc:
    case 0xd0:
      return { header: 0, bytes: 1, children: 0 };
    case 0xcd:
    case 0xd1:
      return { header: 0, bytes: 2, children: 0 };
    case 0xce:
    case 0xd2:
      return { header: 0, bytes: 4, children: 0 };
    case 0xcf:
    case 0xd3:
      return { header: 0, bytes: 8, children: 0 };
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return { header: 1, bytes: 1 << (type - 0xd4), children: 0, ext: true };
    case 0xdc:
      return need(2) ? { header: 2, bytes: 0, children: b.readUInt16BE(pos) } : { header: 2, bytes: 0, children: 0 };
    case 0xdd:
      return need(4) ? { header: 4, bytes: 0, children: b.readUInt32BE(pos) } : { header: 4, bytes: 0, children: 0 };
    case 0xde:
      return need(2)
        ? { header: 2, bytes: 0, children: 2 * b.readUInt16BE(pos) }
        : { header: 2, bytes: 0, children: 0 };
    case 0xdf:
      return need(4)
        ? { header: 4, bytes: 0, children: 2 * b.readUInt32BE(pos) }
        : { header: 4, bytes: 0, children: 0 };
    default:
      return undefined;
  }
}
