/**
 * Invariant checks. A failed assertion is a bug in Sluice, not an operating
 * error: it throws AssertionFailure, which nothing should catch and retry.
 */
export class AssertionFailure extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionFailure';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailure(message);
}
