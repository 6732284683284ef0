/**
 * The one check every native request body passes before a handler sees it,
 * whichever listener it came in on (the Kafka listener's adapters produce
 * native bodies too): its API's shape (request-shapes.ts).
 */
import { WireError } from '../error-codes.js';
import { apiName } from './api-keys.js';
import { requestShape } from './request-shapes.js';
import { describeProblem } from './shape.js';

export interface Refusal {
  errorCode: typeof WireError.INVALID_REQUEST;
  errorMessage: string;
}

/** undefined when `body` has `apiKey`'s request shape; otherwise the INVALID_REQUEST answer naming the field. */
export function refusalOf(apiKey: number, body: unknown): Refusal | undefined {
  const shape = requestShape(apiKey);
  const problem = shape
    ? shape.problem(body)
    : { path: [], expected: `the body of a known API (${apiName(apiKey)} is not one)` };
  if (!problem) return undefined;
  return {
    errorCode: WireError.INVALID_REQUEST,
    errorMessage: `malformed ${apiName(apiKey)} request: ${describeProblem(problem)}`,
  };
}
