/**
 * The native request shape language (src/protocol/native/shape.ts): what each
 * shape accepts and refuses, and that a refusal names the path from the root.
 */
import { describe, expect, it } from 'vitest';
import {
  boolean,
  bytes,
  describeProblem,
  formatPath,
  int16,
  int32,
  int64,
  intIn,
  isPlainMap,
  list,
  nullable,
  object,
  oneOf,
  optional,
  stringMap,
  text,
} from '../../../src/protocol/native/shape.js';

describe('native request shapes', () => {
  it('integers: safe, whole and within their range', () => {
    for (const ok of [0, -1, 0x7fffffff, -0x80000000]) expect(int32.problem(ok)).toBeUndefined();
    for (const bad of [0x80000000, -0x80000001, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null, undefined, 1n]) {
      expect(int32.problem(bad), String(bad)).toEqual({ path: [], expected: 'an int32' });
    }
    expect(int16.problem(0x8000)).toBeDefined();
    expect(int64.problem(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(int64.problem(2 ** 53)).toBeDefined();
    expect(intIn(1, 3).problem(0)).toEqual({ path: [], expected: 'an integer in 1..3' });
  });

  it('text up to its length, bytes only as Buffers, booleans only as booleans', () => {
    expect(text(3).problem('abc')).toBeUndefined();
    expect(text(3).problem('abcd')).toBeDefined();
    expect(text(3).problem(3)).toBeDefined();
    expect(bytes.problem(Buffer.alloc(2))).toBeUndefined();
    for (const bad of ['ab', [1, 2], new Uint16Array(2), null]) expect(bytes.problem(bad)).toBeDefined();
    expect(boolean.problem(false)).toBeUndefined();
    expect(boolean.problem(0)).toBeDefined();
  });

  it('oneOf takes only its literals', () => {
    const acks = oneOf(0, 1, -1);
    for (const ok of [0, 1, -1]) expect(acks.problem(ok)).toBeUndefined();
    expect(acks.problem(2)).toEqual({ path: [], expected: 'one of 0, 1, -1' });
    expect(acks.problem('1')).toBeDefined();
  });

  it('nullable adds null, optional adds absence; neither adds the other', () => {
    expect(nullable(int32).problem(null)).toBeUndefined();
    expect(nullable(int32).problem(undefined)).toBeDefined();
    expect(optional(int32).problem(undefined)).toBeUndefined();
    expect(optional(int32).problem(null)).toBeDefined();
  });

  it('text: bounded in UTF-8 bytes, the unit of a Kafka STRING (multi-byte text counts what it takes on the wire)', () => {
    expect(text(6).problem('abcdef')).toBeUndefined();
    expect(text(6).problem('abcdefg')).toBeDefined();
    expect(text(6).problem('éé')).toBeUndefined(); // 4 bytes
    expect(text(6).problem('éééé')).toEqual({ path: [], expected: 'a string of at most 6 UTF-8 bytes' }); // 8 bytes
    expect(text(6).problem('€€€')).toBeDefined(); // 3 characters, 9 bytes
  });

  it('lists: bounded, and every item checked (a null in a list is named by its index)', () => {
    const names = list(text(10), 3);
    expect(names.problem(['a', 'b'])).toBeUndefined();
    expect(names.problem(['a', null])).toEqual({ path: [1], expected: 'a string of at most 10 UTF-8 bytes' });
    expect(names.problem(['a', 'b', 'c', 'd'])).toEqual({ path: [], expected: 'a list of at most 3 items' });
    expect(names.problem({ 0: 'a', length: 1 })).toBeDefined();
  });

  it('objects: plain maps only, required fields present, unknown fields ignored, inherited ones never read', () => {
    const shape = object({ name: text(10), count: optional(int32) });
    expect(shape.problem({ name: 'a' })).toBeUndefined();
    expect(shape.problem({ name: 'a', count: undefined, extra: [null] })).toBeUndefined();
    expect(shape.problem({})).toEqual({ path: ['name'], expected: 'a string of at most 10 UTF-8 bytes' });
    expect(shape.problem(null)).toEqual({ path: [], expected: 'a map' });
    for (const notMap of [[], new Date(0), Buffer.from('a'), new Map([['name', 'a']])]) {
      expect(shape.problem(notMap), String(notMap)).toEqual({ path: [], expected: 'a map' });
    }
    // a field only the prototype has is absent
    const inherits = Object.create({ name: 'a' }) as object;
    expect(isPlainMap(inherits)).toBe(false);
    const toStringField = object({ toString: text(10) });
    expect(toStringField.problem({})).toEqual({ path: ['toString'], expected: 'a string of at most 10 UTF-8 bytes' });
    expect(object({}).problem(Object.create(null))).toBeUndefined();
  });

  it('string maps: plain, bounded, every value checked', () => {
    const configs = stringMap(text(5), 2);
    expect(configs.problem({ a: '1', b: '2' })).toBeUndefined();
    expect(configs.problem({ a: 1 })).toEqual({ path: ['a'], expected: 'a string of at most 5 UTF-8 bytes' });
    expect(configs.problem({ a: '1', b: '2', c: '3' })).toEqual({ path: [], expected: 'a map of at most 2 entries' });
    expect(configs.problem('a=1')).toBeDefined();
  });

  it('names the path of a nested problem', () => {
    const shape = object({ topics: list(object({ partitions: list(object({ records: bytes }), 5) }), 5) });
    const problem = shape.problem({ topics: [{ partitions: [{ records: Buffer.alloc(0) }, { records: 'x' }] }] });
    expect(problem).toEqual({ path: ['topics', 0, 'partitions', 1, 'records'], expected: 'bytes' });
    expect(describeProblem(problem as NonNullable<typeof problem>)).toBe(
      'topics[0].partitions[1].records must be bytes',
    );
    expect(formatPath([])).toBe('the body');
    expect(formatPath([2])).toBe('[2]');
  });

  it('infers the TypeScript type from the shape', () => {
    const shape = object({ name: text(10), count: optional(int32), tags: nullable(list(text(3), 2)) });
    type T = NonNullable<(typeof shape)['__type']>;
    const value: T = { name: 'a', tags: null };
    // @ts-expect-error name is required
    const missing: T = { tags: null };
    // @ts-expect-error count is a number
    const wrong: T = { name: 'a', tags: null, count: 'x' };
    expect([value, missing, wrong]).toHaveLength(3);
  });
});
