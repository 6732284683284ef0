/**
 * Shapes of native request bodies as data: a small schema language, the
 * native protocol's counterpart of src/protocol/kafka/schema.ts. A body is
 * checked against its API's shape before any handler sees it, so a handler
 * never meets `null` where it expects a map, a string where it expects a
 * number, or a list longer than its bound. The TypeScript type of a body is
 * inferred from its shape (`Infer<typeof shape>`), so the two cannot drift.
 *
 * Shapes check, they never convert: a valid body is handed on unchanged
 * (records stay the Buffers msgpack decoded, no copy). Unknown fields are
 * ignored, as Kafka ignores tagged fields it does not know, so a newer client
 * can add an optional field. An absent field and one set to undefined (how
 * msgpackr writes a JavaScript undefined) are the same.
 *
 * What belongs in a shape: types, nullability, presence, the range a number
 * must have to be meaningful at all (int32, a safe int64, acks 0|1|-1) and
 * list/text lengths that bound the work of one request. What does not: rules a
 * handler answers with a more specific code (a topic name's characters:
 * INVALID_TOPIC_EXCEPTION; a partition count: INVALID_PARTITIONS).
 */

/** Where a value failed and what was expected there. */
export interface ShapeProblem {
  /** Field names and list indexes from the body's root, e.g. ['topics', 0, 'name']. */
  path: (string | number)[];
  expected: string;
}

export interface Shape<T> {
  /** What the shape accepts, for error messages ("int32", "bytes", "list of at most 10000 ..."). */
  readonly expected: string;
  /** True when the field may be absent (or undefined). */
  readonly optional: boolean;
  /** undefined when `value` has this shape; otherwise where and why it has not. No exception, no stack. */
  problem(value: unknown): ShapeProblem | undefined;
  /** Carries T for inference only; never set. */
  readonly __type?: T;
}

export type Infer<S> = S extends Shape<infer T> ? T : never;

/** True when `value` has `shape`'s shape, and then typed as what the shape describes. */
export function conforms<T>(shape: Shape<T>, value: unknown): value is T {
  return shape.problem(value) === undefined;
}

export function shape<T>(expected: string, ok: (value: unknown) => boolean): Shape<T> {
  return {
    expected,
    optional: false,
    problem: (value) => (ok(value) ? undefined : { path: [], expected }),
  };
}

/** An integer in [min, max] (both inclusive, both safe integers). */
export function intIn(min: number, max: number, expected = `an integer in ${min}..${max}`): Shape<number> {
  return shape(expected, (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max);
}

export const int16 = intIn(-0x8000, 0x7fff, 'an int16');
export const int32 = intIn(-0x80000000, 0x7fffffff, 'an int32');
/** Kafka's int64 as far as a JavaScript number holds it exactly (offsets, timestamps, producer ids). */
export const int64 = intIn(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'a safe integer');
export const boolean: Shape<boolean> = shape('a boolean', (v) => typeof v === 'boolean');

/**
 * Text of at most `maxLength` UTF-8 bytes: names travel on to Kafka clients
 * as Kafka STRINGs, whose length is an int16 count of bytes, so a limit in
 * characters would let multi-byte text through that no response can carry.
 */
export function text(maxLength: number): Shape<string> {
  return shape(
    `a string of at most ${maxLength} UTF-8 bytes`,
    (v) => typeof v === 'string' && v.length <= maxLength && (v.length * 3 <= maxLength || utf8Bytes(v) <= maxLength),
  );
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Raw bytes (msgpack bin), handed on as the Buffer msgpackr decoded. */
export const bytes: Shape<Buffer> = shape('bytes', (v) => Buffer.isBuffer(v));

/** One of a few literal values (acks 0|1|-1, an ack type). */
export function oneOf<const V extends readonly (string | number)[]>(...values: V): Shape<V[number]> {
  const allowed = new Set<unknown>(values);
  return shape(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, (v) => allowed.has(v));
}

/** The same value or null. */
export function nullable<T>(inner: Shape<T>): Shape<T | null> {
  return {
    expected: `${inner.expected} or null`,
    optional: inner.optional,
    problem: (value) => (value === null ? undefined : inner.problem(value)),
  };
}

/** A field that may be absent (or undefined); `object` infers it as an optional key. Wrap outside `nullable`. */
export function optional<T>(inner: Shape<T>): Shape<T | undefined> & { readonly optional: true } {
  return {
    expected: inner.expected,
    optional: true,
    problem: (value) => (value === undefined ? undefined : inner.problem(value)),
  };
}

function within(problem: ShapeProblem, step: string | number): ShapeProblem {
  problem.path.unshift(step);
  return problem;
}

/** A list of at most `maxItems` items, each of `item`'s shape (so a null in it is refused, with its index). */
export function list<T>(item: Shape<T>, maxItems: number): Shape<T[]> {
  const expected = `a list of at most ${maxItems} items`;
  return {
    expected,
    optional: false,
    problem(value) {
      if (!Array.isArray(value) || value.length > maxItems) return { path: [], expected };
      for (let i = 0; i < value.length; i++) {
        const found = item.problem(value[i]);
        if (found) return within(found, i);
      }
      return undefined;
    },
  };
}

/**
 * A map as msgpackr decodes it: a plain object. Anything else that decodes
 * to an object (a Date from the timestamp extension, a Buffer, a list) is not one.
 */
export function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A field's value only when the map itself holds it, never one inherited from
 * Object.prototype (`toString`, `constructor`): those are all functions, which
 * no msgpack value decodes to, so a function means "not there" without a
 * slower own-property lookup per field.
 */
function own(map: Record<string, unknown>, key: string): unknown {
  const value = map[key];
  return typeof value === 'function' ? undefined : value;
}

/** A string-keyed map of at most `maxEntries` entries, each value of `value`'s shape (topic configs). */
export function stringMap<T>(value: Shape<T>, maxEntries: number): Shape<Record<string, T>> {
  const expected = `a map of at most ${maxEntries} entries`;
  return {
    expected,
    optional: false,
    problem(map) {
      if (!isPlainMap(map)) return { path: [], expected };
      let entries = 0;
      for (const key in map) {
        if (!Object.hasOwn(map, key)) continue;
        if (++entries > maxEntries) return { path: [], expected };
        const found = value.problem(map[key]);
        if (found) return within(found, key);
      }
      return undefined;
    },
  };
}

type Fields = Record<string, Shape<unknown>>;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K]['optional'] extends true ? K : never }[keyof F];
type Flatten<T> = { [K in keyof T]: T[K] } & {};
type MapOf<F extends Fields> = Flatten<
  { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
    -readonly [K in OptionalKeys<F>]?: Exclude<Infer<F[K]>, undefined>;
  }
>;

/** A map with these fields (others are ignored). Use `optional(...)` for a field that may be absent. */
export function object<F extends Fields>(fields: F): Shape<MapOf<F>> & { readonly fields: F } {
  const entries = Object.entries(fields);
  const expected = 'a map';
  return {
    expected,
    optional: false,
    fields,
    problem(value) {
      if (!isPlainMap(value)) return { path: [], expected };
      for (const [name, field] of entries) {
        const found = field.problem(own(value, name));
        if (found) return within(found, name);
      }
      return undefined;
    },
  };
}

/** "topics[0].partitions[2].records" */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out === '' ? step : `.${step}`;
  return out === '' ? 'the body' : out;
}

/** A one-line description of a problem for an INVALID_REQUEST answer and the broker's log. */
export function describeProblem(problem: ShapeProblem): string {
  return `${formatPath(problem.path)} must be ${problem.expected}`;
}
