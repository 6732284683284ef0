/**
 * A small MessagePack writer for the fuzzer, independent of msgpackr: it
 * writes exactly the bytes it is told, including what no encoder would
 * (a map claiming 4 billion entries, an ext type msgpackr reserves, a depth
 * no stack survives), by splicing `RawMsgpack` bytes in at any position.
 */

/** Bytes written verbatim where a value goes. */
export class RawMsgpack {
  constructor(
    readonly bytes: Buffer,
    /** What it is, for reports. */
    readonly label: string,
  ) {}
}

export type MsgValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | RawMsgpack
  | MsgValue[]
  | { [key: string]: MsgValue };

/** Nesting the writer itself follows; deeper hostile nesting is built as RawMsgpack. */
const writeDepthMax = 64;

function head(small: number, tag8: number | undefined, tag16: number, tag32: number, n: number): Buffer {
  if (n <= 0x0f && small >= 0) return Buffer.from([small | n]);
  if (tag8 !== undefined && n <= 0xff) return Buffer.from([tag8, n]);
  if (n <= 0xffff) {
    const b = Buffer.alloc(3);
    b[0] = tag16;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = tag32;
  b.writeUInt32BE(n >>> 0, 1);
  return b;
}

/** Integers beyond 32 bits go out as float64, as msgpackr writes them (a bigint value is written as a 64-bit int). */
function writeNumber(n: number): Buffer {
  if (Number.isInteger(n) && n >= 0 && n <= 0x7f) return Buffer.from([n]);
  if (Number.isInteger(n) && n < 0 && n >= -32) return Buffer.from([n & 0xff]);
  if (Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 32 - 1) {
    const b = Buffer.alloc(5);
    if (n < 0) {
      b[0] = 0xd2;
      b.writeInt32BE(n, 1);
    } else {
      b[0] = 0xce;
      b.writeUInt32BE(n, 1);
    }
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0xcb;
  b.writeDoubleBE(n, 1);
  return b;
}

function writeBigInt(n: bigint): Buffer {
  const b = Buffer.alloc(9);
  if (n < 0n) {
    b[0] = 0xd3;
    b.writeBigInt64BE(BigInt.asIntN(64, n), 1);
  } else {
    b[0] = 0xcf;
    b.writeBigUInt64BE(BigInt.asUintN(64, n), 1);
  }
  return b;
}

function write(value: MsgValue, out: Buffer[], depth: number): void {
  if (depth > writeDepthMax) throw new Error('msgpack-writer: value nested too deep');
  if (value === null || value === undefined) out.push(Buffer.from([0xc0]));
  else if (value === true) out.push(Buffer.from([0xc3]));
  else if (value === false) out.push(Buffer.from([0xc2]));
  else if (typeof value === 'number') out.push(writeNumber(value));
  else if (typeof value === 'bigint') out.push(writeBigInt(value));
  else if (typeof value === 'string') {
    const s = Buffer.from(value, 'utf8');
    out.push(s.length < 32 ? Buffer.from([0xa0 | s.length]) : head(-1, 0xd9, 0xda, 0xdb, s.length), s);
  } else if (value instanceof RawMsgpack) out.push(value.bytes);
  else if (Buffer.isBuffer(value)) out.push(head(-1, 0xc4, 0xc5, 0xc6, value.length), value);
  else if (Array.isArray(value)) {
    out.push(head(0x90, undefined, 0xdc, 0xdd, value.length));
    for (const v of value) write(v, out, depth + 1);
  } else {
    const keys = Object.keys(value);
    out.push(head(0x80, undefined, 0xde, 0xdf, keys.length));
    for (const k of keys) {
      write(k, out, depth + 1);
      write(value[k], out, depth + 1);
    }
  }
}

/** The MessagePack bytes of `value` (RawMsgpack spliced verbatim). */
export function writeMsgpack(value: MsgValue): Buffer {
  const out: Buffer[] = [];
  write(value, out, 0);
  return Buffer.concat(out);
}
