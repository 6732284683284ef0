/**
 * The one check every native request body passes before a handler sees it,
 * whichever listener it came in on (the Kafka listener's adapters produce
 * native bodies too): its API's shape, from the registry (apis.ts). Checking
 * is all it does: a valid body is handed on unchanged, now typed.
 */
import { assert } from '../../shared/assert.js';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { WireError } from '../error-codes.js';
import { type ApiKey, apiName } from './api-keys.js';
import { nativeApis, type RequestOf, requestShape } from './apis.js';
import { conforms, describeProblem } from './shape.js';

export interface Refusal {
  errorCode: typeof WireError.INVALID_REQUEST;
  errorMessage: string;
}

function refusal(apiKey: number, problem: string): Refusal {
  return { errorCode: WireError.INVALID_REQUEST, errorMessage: `malformed ${apiName(apiKey)} request: ${problem}` };
}

/** undefined when `body` has `apiKey`'s request shape; otherwise the INVALID_REQUEST answer naming the field. */
export function refusalOf(apiKey: number, body: unknown): Refusal | undefined {
  const shape = requestShape(apiKey);
  const problem = shape
    ? shape.problem(body)
    : { path: [], expected: `the body of a known API (${apiName(apiKey)} is not one)` };
  return problem ? refusal(apiKey, describeProblem(problem)) : undefined;
}

/** A request body that has its API's shape, typed. */
export interface ParsedRequest<K extends ApiKey = ApiKey> {
  apiKey: K;
  body: RequestOf<K>;
}

/**
 * `body` as `apiKey`'s typed request, or the INVALID_REQUEST answer naming
 * the field it fails at (what a listener answers and logs). `version` is one
 * the listener checked this build speaks; every version of an API has one
 * shape today.
 */
export function checkRequest<K extends ApiKey>(
  apiKey: K,
  _version: number,
  body: unknown,
): ParsedRequest<K> | { refusal: Refusal } {
  const shape = nativeApis[apiKey].request;
  if (conforms(shape, body)) return { apiKey, body };
  const problem = shape.problem(body);
  assert(problem !== undefined, 'a body that does not conform to its shape has a problem');
  return { refusal: refusal(apiKey, describeProblem(problem)) };
}

/** `body` as `apiKey`'s typed request; throws InvalidRequest with the refusal's message when it is malformed. */
export function parseRequest<K extends ApiKey>(apiKey: K, version: number, body: unknown): RequestOf<K> {
  const checked = checkRequest(apiKey, version, body);
  if ('refusal' in checked) throw new SluiceError(ErrorCode.InvalidRequest, checked.refusal.errorMessage);
  return checked.body;
}
