/**
 * One Kafka API as the Kafka listener sees it: the versions it speaks, the
 * request and response schemas, and the two small adapters between Kafka's
 * message shapes and the native handler's. The native handler holds the
 * semantics; a Kafka API module only renames and reshapes fields.
 */

import type { Codec } from '../binary/schema.js';
import type { ApiKey } from '../native/api-keys.js';
import type { AnswerOf, NativeAnswer, RequestOf } from '../native/apis.js';

/** What a response adapter may need beyond the request and the handler's answer. */
export interface KafkaEnv {
  /** Every API and version range the Kafka listener speaks (for ApiVersions). */
  supported: readonly { apiKey: number; minVersion: number; maxVersion: number }[];
}

/**
 * The native handler's answer: its response body, or only errorCode and
 * errorMessage when the request as a whole failed (a shape check, an
 * unexpected error). Adapters must cope with both: checking any field of the
 * body tells which (see AnswerOf).
 */
export type NativeResult<K extends ApiKey = ApiKey> = AnswerOf<K>;

/**
 * Native request T as an adapter builds it from Kafka's values: every field,
 * named as the native API names it (a forgotten or misspelt one does not
 * compile), but a number may be any number and bytes may be null, because a
 * Kafka request can carry values the native API cannot take (acks 2, null
 * records). The Kafka codec parses what the adapter built against the native
 * shape, as the native codec parses a native body (request-check.ts), so
 * such a request gets the same INVALID_REQUEST answer on both listeners and
 * validation stays in one place.
 */
export type Unchecked<T> = T extends Buffer
  ? Buffer | null
  : T extends number
    ? number
    : T extends readonly (infer E)[]
      ? Unchecked<E>[]
      : T extends object
        ? { [F in keyof T]: Unchecked<T[F]> }
        : T;

/**
 * One Kafka API over native API K: its request becomes K's request, K's
 * answer becomes its response, both typed by the native registry
 * (src/protocol/native/apis.ts), so a native field an adapter forgets is a
 * compile error.
 */
export interface KafkaApi<Req, Res, K extends ApiKey = ApiKey> {
  /** Kafka's key for the API, which is also the native API's (unless kafkaApiKey says otherwise). */
  apiKey: K;
  /**
   * Kafka's key when the API is answered by a native API of another key
   * (DescribeCluster, 60, by native Metadata); absent when they are the same.
   */
  kafkaApiKey?: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  /** The first flexible version (compact types, tagged fields); Infinity when none we speak is. */
  flexibleFrom: number;
  request: Codec<Req>;
  response: Codec<Res>;
  /**
   * The native handler's request body. Absent for the APIs the listener
   * answers itself (ApiVersions: what this listener speaks).
   */
  toNative?(request: Req, version: number): Unchecked<RequestOf<K>>;
  /** False when the client expects no response at all (produce with acks 0), whatever happened. */
  answered?(request: Req): boolean;
  /** The Kafka response, from the handler's answer (or from nothing, for toNative-less APIs). */
  fromNative(result: NativeResult<K>, request: Req, version: number, env: KafkaEnv): Res;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds APIs of every request/response type
export type AnyKafkaApi = KafkaApi<any, any, ApiKey>;

/** Identity helper that keeps an API module's request/response types and native key inferred. */
export function kafkaApi<Req, Res, K extends ApiKey>(api: KafkaApi<Req, Res, K>): KafkaApi<Req, Res, K> {
  return api;
}

/** The key Kafka clients send and ApiVersions advertises for the API. */
export function kafkaKeyOf(api: AnyKafkaApi): number {
  return api.kafkaApiKey ?? api.apiKey;
}

/** The error code and message of a failed request, for adapters that spread it over partitions. */
export function errorOf(result: NativeAnswer): { errorCode: number; errorMessage: string | null } {
  return { errorCode: result.errorCode ?? 0, errorMessage: result.errorMessage ?? null };
}
