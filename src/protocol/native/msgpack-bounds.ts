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
export function msgpackBoundsProblem(payload: Uint8Array): string | undefined {
  // values still to read at each open container level (a map counts keys and values); [0] is the root
  const remaining = new Float64Array(requestMsgpackDepthMax + 1);
  let depth = 0;
  remaining[0] = 1;
  let pos = 0;
  let items = 0;
  const end = payload.length;
  while (depth >= 0) {
    if (remaining[depth] === 0) {
      depth--;
      continue;
    }
    remaining[depth] = (remaining[depth] as number) - 1;
    if (pos >= end) return 'truncated msgpack';
    if (++items > requestMsgpackItemsMax) return `more than ${requestMsgpackItemsMax} msgpack values`;
    const byte = payload[pos++] as number;
    // bytes of a length field, data bytes to skip, values inside; an extension's type byte follows its length
    let lengthBytes = 0;
    let skip = 0;
    let children = 0;
    let ext = false;
    if (byte <= 0x7f || byte >= 0xe0) {
      // fixint
    } else if (byte <= 0x8f) children = (byte & 0x0f) * 2;
    else if (byte <= 0x9f) children = byte & 0x0f;
    else if (byte <= 0xbf) skip = byte & 0x1f;
    else if (byte >= 0xd4 && byte <= 0xd8) {
      ext = true;
      skip = 1 << (byte - 0xd4);
    } else {
      switch (byte) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          break;
        case 0xcc: // uint8, int8
        case 0xd0:
          skip = 1;
          break;
        case 0xcd:
        case 0xd1:
          skip = 2;
          break;
        case 0xca: // float32
        case 0xce:
        case 0xd2:
          skip = 4;
          break;
        case 0xcb: // float64
        case 0xcf:
        case 0xd3:
          skip = 8;
          break;
        case 0xc4: // bin8, str8
        case 0xd9:
          lengthBytes = 1;
          break;
        case 0xc5:
        case 0xda:
        case 0xdc: // array16
        case 0xde: // map16
          lengthBytes = 2;
          break;
        case 0xc6:
        case 0xdb:
        case 0xdd: // array32
        case 0xdf: // map32
          lengthBytes = 4;
          break;
        case 0xc7: // ext8
          lengthBytes = 1;
          ext = true;
          break;
        case 0xc8:
          lengthBytes = 2;
          ext = true;
          break;
        case 0xc9:
          lengthBytes = 4;
          ext = true;
          break;
        default:
          return `msgpack type 0x${byte.toString(16)} is not accepted`;
      }
    }
    if (lengthBytes > 0) {
      if (pos + lengthBytes > end) return 'truncated msgpack';
      let length = 0;
      for (let i = 0; i < lengthBytes; i++) length = length * 256 + (payload[pos + i] as number);
      pos += lengthBytes;
      if (byte === 0xdc || byte === 0xdd) children = length;
      else if (byte === 0xde || byte === 0xdf) children = 2 * length;
      else skip = length;
    }
    if (ext) {
      if (pos >= end) return 'truncated msgpack';
      const type = ((payload[pos] as number) << 24) >> 24;
      if (type !== undefinedExtension && type !== timestampExtension)
        return `msgpack extension ${type} is not accepted`;
      pos++;
    }
    if (skip > end - pos) return 'truncated msgpack';
    pos += skip;
    if (children > 0) {
      if (depth + 1 >= requestMsgpackDepthMax) return `msgpack nested deeper than ${requestMsgpackDepthMax}`;
      // a container cannot hold more values than bytes are left: a lie, refused before counting on it
      if (children > end - pos) return 'truncated msgpack';
      remaining[++depth] = children;
    }
  }
  return pos === end ? undefined : 'bytes after the msgpack value';
}
