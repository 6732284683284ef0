/** The native protocol (msgpack envelopes) as a listener codec. */
import type { Handler } from '../handlers/context.js';
import { WireError } from '../protocol/error-codes.js';
import { apiName } from '../protocol/native/api-keys.js';
import { decodeRequest, encodeResponse, type RequestHeader } from '../protocol/native/frame.js';
import type { Route, ServerCodec } from './server-codec.js';

interface NativeRequest {
  header: RequestHeader;
  body: unknown;
}

export function nativeCodec(handlers: ReadonlyMap<number, Handler>): ServerCodec<NativeRequest> {
  return {
    decode: decodeRequest,
    apiName: (request) => apiName(request.header.apiKey),
    clientId: (request) => request.header.clientId,
    route({ header, body }): Route {
      const handler = handlers.get(header.apiKey);
      if (!handler || header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
        return {
          reply: {
            errorCode: WireError.UNSUPPORTED_VERSION,
            errorMessage: `${apiName(header.apiKey)} version ${header.apiVersion} is not supported`,
          },
        };
      }
      return { apiKey: header.apiKey, body };
    },
    encode: (request, response) =>
      response === undefined ? null : [encodeResponse(request.header.correlationId, response)],
  };
}
