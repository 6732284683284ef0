/** The native protocol (msgpack envelopes) as a listener codec. */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey, apiName } from '../protocol/native/api-keys.js';
import { isApiKey, speaks } from '../protocol/native/apis.js';
import { decodeRequest, encodeResponse, type RequestHeader } from '../protocol/native/frame.js';
import { msgpackBoundsProblem } from '../protocol/native/msgpack-bounds.js';
import { checkRequest } from '../protocol/native/request-check.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { RefusedRequests } from './refused-requests.js';
import type { Route, ServerCodec } from './server-codec.js';

interface NativeRequest {
  header: RequestHeader;
  body: unknown;
}

/**
 * A frame's msgpack is bounded (msgpack-bounds.ts) before it is decoded; one
 * that is not closes the connection, as an undecodable frame does. The
 * versions an API speaks are the registry's (apis.ts). Every body is parsed
 * against its API's shape here (request-check.ts), before a handler sees it:
 * a malformed one is answered INVALID_REQUEST, naming the field, and logged
 * once as a warning (bounded, see RefusedRequests).
 */
export function nativeCodec(refusals: RefusedRequests = new RefusedRequests(silentLogger)): ServerCodec<NativeRequest> {
  return {
    decode(payload) {
      // bounded before msgpackr builds a single object (amplification, depth, extension types)
      const problem = msgpackBoundsProblem(payload);
      if (problem) throw new SluiceError(ErrorCode.InvalidRequest, `undecodable request: ${problem}`);
      return decodeRequest(payload);
    },
    apiName: (request) => apiName(request.header.apiKey),
    clientId: (request) => request.header.clientId,
    route({ header, body }): Route {
      const { apiKey, apiVersion } = header;
      if (!isApiKey(apiKey) || !speaks(apiKey, apiVersion)) {
        return {
          reply: {
            errorCode: WireError.UNSUPPORTED_VERSION,
            errorMessage: `${apiName(header.apiKey)} version ${header.apiVersion} is not supported`,
          },
        };
      }
      const checked = checkRequest(apiKey, apiVersion, body);
      if ('refusal' in checked) {
        refusals.refused({
          listener: 'native',
          api: apiName(apiKey),
          clientId: header.clientId,
          reason: checked.refusal.errorMessage,
        });
        return { reply: checked.refusal };
      }
      return checked;
    },
    encode(request, response, throttleMs = 0) {
      if (response === undefined) return null;
      // of the native responses only Produce's and Fetch's carry a throttle time
      const { apiKey } = request.header;
      const carries = (apiKey === ApiKey.Produce || apiKey === ApiKey.Fetch) && 'topics' in response;
      const answer = carries && throttleMs > 0 ? { ...response, throttleTimeMs: throttleMs } : response;
      return [encodeResponse(request.header.correlationId, answer)];
    },
  };
}
