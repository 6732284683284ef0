/**
 * What a listener's wire protocol must provide to the shared connection
 * machinery: decode a frame, say which native handler serves it (with its
 * request, parsed against the API's shape), and encode the handler's answer.
 * The native protocol and the Kafka protocol are two codecs over the same handlers.
 */
import type { NativeAnswer, Refused } from '../protocol/native/apis.js';
import type { ParsedRequest } from '../protocol/native/request-check.js';

/** The handler's API and its typed request, or an answer given without a handler (refused, unsupported, ApiVersions). */
export type Route = ParsedRequest | { reply: Refused };

export interface ServerCodec<R> {
  /** Decodes one frame's payload. Throws when the frame cannot be answered at all (the connection closes). */
  decode(payload: Buffer): R;
  apiName(request: R): string;
  clientId(request: R): string;
  /** The native handler and its request, or an answer given without one (unsupported API, ApiVersions). */
  route(request: R): Route;
  /**
   * The response frame as chunks, or null when none is sent (produce with
   * acks 0). `throttleMs`: a quota's throttle, carried in the response's
   * throttle_time_ms where its API and version have one.
   */
  encode(request: R, response: NativeAnswer | undefined, throttleMs?: number): Buffer[] | null;
  /**
   * A frame this codec could not decode but recognises as another protocol's request (a native
   * request on the Kafka listener): the answer in that protocol (a frame saying which listener to
   * use; `local`: this listener's host:port as the client reached it), sent before the connection closes. Absent or undefined: the connection just closes.
   */
  misdirected?(payload: Buffer, local: string): Buffer | undefined;
}
