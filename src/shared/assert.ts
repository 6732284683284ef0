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

/**
 * For the catch-alls that log a failed step and carry on (the controller's
 * step queue, ISR changes): an AssertionFailure is a bug, not a failed step,
 * so it is rethrown outside the promise chain and crashes the process (the
 * logs recover from disk on restart) instead of becoming a warning.
 */
export function crashOnBug(err: unknown): void {
  if (err instanceof AssertionFailure) {
    process.nextTick(() => {
      throw err;
    });
  }
}
