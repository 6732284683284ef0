/**
 * The Kafka protocol as a listener codec: Kafka request bytes become the
 * native handler's request body, its answer becomes Kafka response bytes.
 * No semantics live here; see src/protocol/kafka for the per-API adapters.
 * The native body an adapter makes passes the same shape check as one that
 * came in on the native listener, so no handler sees a value it cannot take.
 */

import type { NativeResult } from '../protocol/kafka/api.js';
import { decodeKafkaRequest, encodeKafkaResponse, type KafkaRequest, kafkaApiName } from '../protocol/kafka/codec.js';
import { refusalOf } from '../protocol/native/request-check.js';
import { silentLogger } from '../shared/logger.js';
import { RefusedRequests } from './refused-requests.js';
import type { Route, ServerCodec } from './server-codec.js';

export function kafkaCodec(refusals: RefusedRequests = new RefusedRequests(silentLogger)): ServerCodec<KafkaRequest> {
  return {
    decode: decodeKafkaRequest,
    apiName: (request) => kafkaApiName(request.header.apiKey),
    clientId: (request) => request.header.clientId ?? '',
    route({ api, body, header }): Route {
      if (!api?.toNative) return { reply: {} };
      const native = api.toNative(body, header.apiVersion);
      const refusal = refusalOf(api.apiKey, native);
      if (refusal) {
        refusals.refused({
          listener: 'kafka',
          api: api.name,
          clientId: header.clientId ?? '',
          reason: refusal.errorMessage,
        });
        return { reply: refusal };
      }
      return { apiKey: api.apiKey, body: native };
    },
    encode: (request, response) =>
      response === undefined ? null : encodeKafkaResponse(request, response as NativeResult),
  };
}
