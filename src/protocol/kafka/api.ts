/**
 * One Kafka API as the Kafka listener sees it: the versions it speaks, the
 * request and response schemas, and the two small adapters between Kafka's
 * message shapes and the native handler's. The native handler holds the
 * semantics; a Kafka API module only renames and reshapes fields.
 */

import type { Codec } from '../binary/schema.js';
import type { ErrorFields } from '../native/messages.js';

/** What a response adapter may need beyond the request and the handler's answer. */
export interface KafkaEnv {
  /** Every API and version range the Kafka listener speaks (for ApiVersions). */
  supported: readonly { apiKey: number; minVersion: number; maxVersion: number }[];
}

/**
 * The native handler's answer: its response body, or only errorCode and
 * errorMessage when the request as a whole failed (a shape check, an
 * unexpected error). Adapters must cope with both.
 */
export type NativeResult = Partial<Record<string, unknown>> & Partial<ErrorFields>;

export interface KafkaApi<Req, Res> {
  apiKey: number;
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
  toNative?(request: Req, version: number): object;
  /** False when the client expects no response at all (produce with acks 0), whatever happened. */
  answered?(request: Req): boolean;
  /** The Kafka response, from the handler's answer (or from nothing, for toNative-less APIs). */
  fromNative(result: NativeResult, request: Req, version: number, env: KafkaEnv): Res;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds APIs of every request/response type
export type AnyKafkaApi = KafkaApi<any, any>;

/** Identity helper that keeps an API module's request/response types inferred. */
export function kafkaApi<Req, Res>(api: KafkaApi<Req, Res>): KafkaApi<Req, Res> {
  return api;
}

/** The error code and message of a failed request, for adapters that spread it over partitions. */
export function errorOf(result: NativeResult): { errorCode: number; errorMessage: string | null } {
  return { errorCode: result.errorCode ?? 0, errorMessage: result.errorMessage ?? null };
}
