/**
 * Kafka message schemas as data, the way Kafka's own message definitions
 * work: a struct is an ordered list of fields, each present in a range of
 * versions with a default outside it. One schema per API then encodes and
 * decodes every version; flexible versions (KIP-482) switch strings, bytes
 * and arrays to their compact forms and add a tagged-field section to every
 * struct. Tagged fields we do not know are skipped on read; we write none.
 *
 * The TypeScript type of a decoded message is inferred from its schema
 * (`Infer<typeof schema>`), so codecs and adapters are checked by the compiler.
 */
import type { KafkaReader, KafkaWriter } from './primitives.js';

/** What a codec needs to know about the version being read or written. */
export interface VersionContext {
  version: number;
  flexible: boolean;
}

export interface Codec<T> {
  read(r: KafkaReader, v: VersionContext): T;
  write(w: KafkaWriter, value: T, v: VersionContext): void;
}

export type Infer<C> = C extends Codec<infer T> ? T : never;

export const int8: Codec<number> = { read: (r) => r.int8(), write: (w, x) => void w.int8(x) };
export const int16: Codec<number> = { read: (r) => r.int16(), write: (w, x) => void w.int16(x) };
export const int32: Codec<number> = { read: (r) => r.int32(), write: (w, x) => void w.int32(x) };
export const int64: Codec<number> = { read: (r) => r.int64(), write: (w, x) => void w.int64(x) };
export const float64: Codec<number> = { read: (r) => r.float64(), write: (w, x) => void w.float64(x) };
export const bool: Codec<boolean> = { read: (r) => r.int8() !== 0, write: (w, x) => void w.int8(x ? 1 : 0) };

/** Kafka's zero UUID (no id), in its string form. */
export const zeroUuid = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A UUID: 16 bytes on the wire, Kafka's 22-character base64url string in memory. */
export const uuid: Codec<string> = { read: (r) => r.uuid(), write: (w, x) => void w.uuid(x) };

export const nullableString: Codec<string | null> = {
  read: (r, v) => (v.flexible ? r.compactNullableString() : r.nullableString()),
  write: (w, x, v) => void (v.flexible ? w.compactNullableString(x) : w.nullableString(x)),
};

export const string: Codec<string> = {
  read: (r, v) => (v.flexible ? r.compactString() : r.string()),
  write: (w, x, v) => void (v.flexible ? w.compactNullableString(x) : w.nullableString(x)),
};

export const nullableBytes: Codec<Buffer | null> = {
  read: (r, v) => (v.flexible ? r.compactNullableBytes() : r.nullableBytes()),
  write: (w, x, v) => void (v.flexible ? w.compactNullableBytes(x) : w.nullableBytes(x)),
};

const emptyBytes = Buffer.alloc(0);

/** Non-nullable bytes: a null on the wire reads as empty. */
export const bytes: Codec<Buffer> = {
  read: (r, v) => nullableBytes.read(r, v) ?? emptyBytes,
  write: (w, x, v) => nullableBytes.write(w, x, v),
};

export function nullableArray<T>(item: Codec<T>): Codec<T[] | null> {
  return {
    read: (r, v) => {
      const read = (rr: KafkaReader) => item.read(rr, v);
      return v.flexible ? r.compactArray(read) : r.array(read);
    },
    write: (w, items, v) => {
      const write = (ww: KafkaWriter, x: T) => item.write(ww, x, v);
      if (v.flexible) w.compactArray(items, write);
      else w.array(items, write);
    },
  };
}

/** A non-nullable array: a null on the wire reads as empty. */
export function array<T>(item: Codec<T>): Codec<T[]> {
  const inner = nullableArray(item);
  return { read: (r, v) => inner.read(r, v) ?? [], write: (w, x, v) => inner.write(w, x, v) };
}

/** A field of a struct: present from version `min` to `max` (inclusive), `value` elsewhere. */
export interface Field<T> {
  codec: Codec<T>;
  min: number;
  max: number;
  value: T;
}

/** A field in versions min..max; when absent (older/newer version, or missing when writing) it is `value`. */
export function field<T>(codec: Codec<T>, value: T, min = 0, max = Number.POSITIVE_INFINITY): Field<T> {
  return { codec, min, max, value };
}

type Fields = Record<string, Field<unknown>>;
type StructOf<F> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/**
 * A struct: fields in declaration order, then (flexible versions) a tagged
 * field section. Writing takes a partial value: a missing field is written
 * with its default, so an error response can name only its error code.
 */
export function struct<F extends Fields>(fields: F): Codec<StructOf<F>> & { fields: F } {
  const entries = Object.entries(fields);
  return {
    fields,
    read(r, v) {
      const out: Record<string, unknown> = {};
      for (const [name, f] of entries) {
        out[name] = v.version >= f.min && v.version <= f.max ? f.codec.read(r, v) : f.value;
      }
      if (v.flexible) r.skipTaggedFields();
      return out as StructOf<F>;
    },
    write(w, value, v) {
      const source = value as Record<string, unknown>;
      for (const [name, f] of entries) {
        if (v.version < f.min || v.version > f.max) continue;
        const x = source[name];
        f.codec.write(w, x === undefined ? f.value : x, v);
      }
      if (v.flexible) w.emptyTaggedFields();
    },
  };
}

/** The shape most Kafka messages share: topics by name, each with its partitions (`partition` is one). */
export function topicsOf<P>(partition: Codec<P>): Codec<{ name: string; partitions: P[] }[]> {
  return array(struct({ name: field(string, ''), partitions: field(array(partition), []) }));
}
