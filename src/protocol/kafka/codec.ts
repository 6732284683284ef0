/**
 * Kafka request and response framing over the API schemas.
 *
 *   request  = size:int32 | api_key:int16 | api_version:int16 | correlation_id:int32
 *              | client_id:nullable string | [tagged fields, flexible versions] | body
 *   response = size:int32 | correlation_id:int32 | [tagged fields, flexible versions
 *              except ApiVersions, whose response header is always v0] | body
 *
 * A request for an API or version this listener does not speak is still
 * decoded far enough to answer it: ApiVersions gets a v0 answer with
 * UNSUPPORTED_VERSION and the full list (KIP-511), so the client retries with
 * a version both speak; any other API gets UNSUPPORTED_VERSION as the first
 * field of its body.
 */

import { KafkaReader, type KafkaRequestHeader, KafkaWriter } from '../binary/primitives.js';
import type { VersionContext } from '../binary/schema.js';
import { WireError } from '../error-codes.js';
import type { NativeAnswer } from '../native/apis.js';
import type { AnyKafkaApi } from './api.js';
import { kafkaApis, kafkaEnv } from './registry.js';

export const apiVersionsKey = 18;

export interface KafkaRequest {
  header: KafkaRequestHeader;
  /** Undefined when the API or this version of it is not spoken here. */
  api: AnyKafkaApi | undefined;
  /** The decoded request body (Kafka's shape), when `api` is set. */
  body: unknown;
}

function versionContext(api: AnyKafkaApi, version: number): VersionContext {
  return { version, flexible: version >= api.flexibleFrom };
}

/** Decodes a request payload (without its size prefix). Throws InvalidRequest when it is malformed. */
export function decodeKafkaRequest(payload: Buffer): KafkaRequest {
  const r = new KafkaReader(payload);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  const known = kafkaApis.get(apiKey);
  const api = known && apiVersion >= known.minVersion && apiVersion <= known.maxVersion ? known : undefined;
  const header = { apiKey, apiVersion, correlationId, clientId };
  if (!api) return { header, api: undefined, body: undefined };
  const v = versionContext(api, apiVersion);
  if (v.flexible) r.skipTaggedFields();
  return { header, api, body: api.request.read(r, v) };
}

function frame(correlationId: number, flexibleHeader: boolean, writeBody: (w: KafkaWriter) => void): Buffer[] {
  const w = new KafkaWriter();
  w.int32(0).int32(correlationId);
  if (flexibleHeader) w.emptyTaggedFields();
  writeBody(w);
  w.patchInt32(0, w.length - 4);
  return w.toBuffers();
}

/**
 * The response frame (as chunks) to a decoded request, from the native
 * handler's answer; null: none is sent. `throttleMs` (a client quota's
 * throttle) goes in the response's throttle_time_ms, which every response
 * schema that has one names `throttleTimeMs` (written only in the versions
 * that have the field).
 */
export function encodeKafkaResponse(request: KafkaRequest, result: NativeAnswer, throttleMs = 0): Buffer[] | null {
  const { header, api } = request;
  if (!api) return encodeUnsupported(header);
  if (api.answered && !api.answered(request.body)) return null;
  const v = versionContext(api, header.apiVersion);
  const response = api.fromNative(result, request.body, header.apiVersion, kafkaEnv);
  if (throttleMs > 0 && typeof response === 'object' && response !== null && 'throttleTimeMs' in response) {
    const body = response as { throttleTimeMs: number };
    body.throttleTimeMs = Math.max(body.throttleTimeMs, throttleMs);
  }
  return frame(header.correlationId, v.flexible && header.apiKey !== apiVersionsKey, (w) =>
    api.response.write(w, response, v),
  );
}

function encodeUnsupported(header: KafkaRequestHeader): Buffer[] {
  const apiVersions = kafkaApis.get(apiVersionsKey);
  if (header.apiKey === apiVersionsKey && apiVersions) {
    const v0 = { version: 0, flexible: false };
    const body = { ...apiVersions.fromNative({}, {}, 0, kafkaEnv), errorCode: WireError.UNSUPPORTED_VERSION };
    return frame(header.correlationId, false, (w) => apiVersions.response.write(w, body, v0));
  }
  return frame(header.correlationId, false, (w) => w.int16(WireError.UNSUPPORTED_VERSION));
}

/** The API's name for logs and metrics. */
export function kafkaApiName(apiKey: number): string {
  return kafkaApis.get(apiKey)?.name ?? `api ${apiKey}`;
}
