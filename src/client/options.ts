/**
 * Checks of the numeric options a user passes to the client (Sluice,
 * producers, consumers, queue receivers): one message for every option, an
 * InvalidArgument SluiceError.
 */
import { assert } from '../shared/assert.js';
import { invalidArgument } from './errors.js';

/**
 * `value` when it is an integer in min..max, `fallback` when it is undefined
 * (the fallback is the caller's own default and is not checked); anything
 * else is an InvalidArgument naming the option.
 */
export function boundedInt(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  // with safe bounds, "a safe integer in min..max" and "an integer in min..max" are the same test
  assert(
    Number.isSafeInteger(min) && Number.isSafeInteger(max),
    `${name}: bounds ${min}..${max} are not safe integers`,
  );
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(`${name} must be an integer in ${min}..${max}, not ${String(value)}`);
  }
  return value;
}
