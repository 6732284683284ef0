/**
 * The Kafka protocol as a listener codec: Kafka request bytes become the
 * native handler's request body, its answer becomes Kafka response bytes.
 * No semantics live here; see src/protocol/kafka for the per-API adapters.
 */

import type { NativeResult } from '../protocol/kafka/api.js';
import { decodeKafkaRequest, encodeKafkaResponse, type KafkaRequest, kafkaApiName } from '../protocol/kafka/codec.js';
import type { Route, ServerCodec } from './server-codec.js';

export function kafkaCodec(): ServerCodec<KafkaRequest> {
  return {
    decode: decodeKafkaRequest,
    apiName: (request) => kafkaApiName(request.header.apiKey),
    clientId: (request) => request.header.clientId ?? '',
    route({ api, body, header }): Route {
      if (!api?.toNative) return { reply: {} };
      return { apiKey: api.apiKey, body: api.toNative(body, header.apiVersion) };
    },
    encode: (request, response) =>
      response === undefined ? null : encodeKafkaResponse(request, response as NativeResult),
  };
}
