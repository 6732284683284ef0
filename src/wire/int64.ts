/**
 * 64-bit integers as JavaScript numbers. Offsets and timestamps stay below
 * 2^53 in practice; reading two 32-bit halves avoids a BigInt per field on the
 * hot paths.
 */
const two32 = 2 ** 32;

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * two32 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / two32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * two32, pos + 4);
}
