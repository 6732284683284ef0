/** The native protocol (msgpack envelopes) as a listener codec. */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey, apiName } from '../protocol/native/api-keys.js';
import { isApiKey, speaks } from '../protocol/native/apis.js';
import {
  decodeRequest,
  encodeResponse,
  encodeResponseChunks,
  ReferencedBytes,
  type RequestHeader,
  referencedBytesMin,
} from '../protocol/native/frame.js';
import type { FetchResponse } from '../protocol/native/messages.js';
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
      if (apiKey === ApiKey.Fetch && 'topics' in answer) {
        return fetchFrame(request.header.correlationId, answer as FetchResponse);
      }
      return [encodeResponse(request.header.correlationId, answer)];
    },
  };
}

/**
 * A fetch response's frame: the record batches at least referencedBytesMin
 * long are not copied into the msgpack envelope but written after its pieces,
 * as they came from the segment files (the bytes on the wire are the same).
 */
function fetchFrame(correlationId: number, response: FetchResponse): Buffer[] {
  const large = response.topics.some((t) => t.partitions.some((p) => p.records.length >= referencedBytesMin));
  if (!large) return [encodeResponse(correlationId, response)];
  const refs = new ReferencedBytes();
  const body: FetchResponse = {
    ...response,
    topics: response.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => ({ ...p, records: refs.ref(p.records) })),
    })),
  };
  return encodeResponseChunks(correlationId, body, refs);
}
