/**
 * Client-side errors: wire error numbers become SluiceErrors with stable
 * codes from the one error table (the message names the wire error, e.g.
 * NOT_LEADER_OR_FOLLOWER (6)); each error says whether a retry may fix it.
 */
import { ErrorCode, errorCodeOfWire, isRetriable, SluiceError, wireErrorName, wireNameOf } from '../shared/errors.js';

/** A SluiceError for wire error `code` (its own ErrorCode), retriable when Kafka's rules say so. */
export function wireError(code: number, context: string, brokerMessage?: string): SluiceError {
  const name = wireErrorName(code);
  const detail = brokerMessage ? `: ${brokerMessage}` : '';
  return new SluiceError(errorCodeOfWire(code), `${context}: ${name} (${code})${detail}`, {
    retriable: isRetriable(code),
    wireName: wireNameOf(code),
  });
}

/** Marks `err` as one a retry (after a metadata refresh) may fix. */
export function markRetriable<E extends SluiceError>(err: E): E {
  return err.markRetriable();
}

export function isRetriableError(err: unknown): boolean {
  return err instanceof SluiceError && err.retriable;
}

/** Throws the body's top-level error, if any. */
export function checkTopLevel(body: { errorCode?: number; errorMessage?: string }, context: string): void {
  if (body.errorCode !== undefined && body.errorCode !== 0) throw wireError(body.errorCode, context, body.errorMessage);
}

export function closedError(what: string): SluiceError {
  return new SluiceError(ErrorCode.ClientClosed, `${what} is closed`);
}

export function invalidArgument(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidArgument, message);
}
