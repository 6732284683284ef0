/**
 * The Kafka protocol as a listener codec: Kafka request bytes become the
 * native handler's request body, its answer becomes Kafka response bytes.
 * No semantics live here; see src/protocol/kafka for the per-API adapters.
 * The native body an adapter makes is parsed against the same shape as one
 * that came in on the native listener (request-check.ts), so no handler sees
 * a value it cannot take.
 */

import { decodeKafkaRequest, encodeKafkaResponse, type KafkaRequest, kafkaApiName } from '../protocol/kafka/codec.js';
import { decodeRequest, encodeResponse } from '../protocol/native/frame.js';
import { msgpackBoundsProblem } from '../protocol/native/msgpack-bounds.js';
import { checkRequest } from '../protocol/native/request-check.js';
import { ErrorCode, wireErrorOf } from '../shared/errors.js';
import { silentLogger } from '../shared/logger.js';
import { RefusedRequests } from './refused-requests.js';
import type { Route, ServerCodec } from './server-codec.js';

/**
 * `nativePort`: the broker's native listener port, named in the answer to a native request that
 * reached this listener (a Sluice client pointed at the Kafka port).
 */
export function kafkaCodec(
  refusals: RefusedRequests = new RefusedRequests(silentLogger),
  nativePort?: () => number,
): ServerCodec<KafkaRequest> {
  return {
    decode: decodeKafkaRequest,
    apiName: (request) => kafkaApiName(request.header.apiKey),
    clientId: (request) => request.header.clientId ?? '',
    route({ api, body, header }): Route {
      if (!api?.toNative) return { reply: {} };
      // adapters build version 0 of the native API
      const checked = checkRequest(api.apiKey, 0, api.toNative(body, header.apiVersion));
      if ('refusal' in checked) {
        refusals.refused({
          listener: 'kafka',
          api: api.name,
          clientId: header.clientId ?? '',
          reason: checked.refusal.errorMessage,
        });
        return { reply: checked.refusal };
      }
      return checked;
    },
    encode: (request, response, throttleMs = 0) =>
      response === undefined ? null : encodeKafkaResponse(request, response, throttleMs),
    misdirected(payload, local) {
      // a native request is a msgpack array of 5 (0x95): as a Kafka header its api key is negative
      if (payload[0] !== 0x95 || msgpackBoundsProblem(payload) !== undefined) return undefined;
      let correlationId: number;
      try {
        correlationId = decodeRequest(payload).header.correlationId;
      } catch {
        return undefined;
      }
      const port = nativePort?.();
      const where = port === undefined ? "the broker's `port`" : `port ${port} (the broker's \`port\`)`;
      // wrongListener: the native client reports the answer as WrongListener, whatever request it sent
      return encodeResponse(correlationId, {
        wrongListener: true,
        errorCode: wireErrorOf(ErrorCode.WrongListener),
        errorMessage: `${local} is Sluice's Kafka listener (kafka.port), for Kafka clients; Sluice's native listener is ${where}`,
      });
    },
  };
}
