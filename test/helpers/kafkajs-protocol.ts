/**
 * Typed access to kafkajs 2.2.4's request encoders and response decoders
 * (node_modules/kafkajs/src/protocol/requests/<api>/v<N>), used as an
 * independent reference for Kafka's message layouts in the Kafka listener's
 * tests. kafkajs is CommonJS and ships no types for these internals, hence
 * createRequire and the narrow interfaces below.
 *
 * kafkajs's decoders do not say whether they read a body to its end, so the
 * decoder class they construct is replaced (in the require cache, before any
 * response module is loaded) by a subclass that remembers its instances:
 * after a decode, the top-level decoder's offset tells how many bytes kafkajs
 * consumed.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  readonly buffer: Buffer;
}
interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}
type DecoderCtor = new (buffer: Buffer) => KafkajsDecoder;

interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<KafkajsEncoder>;
}
type RequestFactory = (args: object) => KafkajsRequest;
interface ResponseModule {
  decode(body: Buffer): Promise<unknown>;
}

const decoderPath = require.resolve('kafkajs/src/protocol/decoder');
const opened: KafkajsDecoder[] = [];
const original = require(decoderPath) as DecoderCtor;
class TrackingDecoder extends original {
  constructor(buffer: Buffer) {
    super(buffer);
    opened.push(this);
  }
}
const decoderModule = require.cache[decoderPath];
if (!decoderModule) throw new Error('kafkajs decoder module is not in the require cache');
decoderModule.exports = TrackingDecoder;

const requestsDir = 'kafkajs/src/protocol/requests';

/** A request body (without size and header) as kafkajs's encoder of `api` (its folder name) version `version` writes it. */
export async function kafkajsRequest(
  api: string,
  version: number,
  args: object,
): Promise<{ apiKey: number; apiVersion: number; body: Buffer }> {
  const factory = require(`${requestsDir}/${api}/v${version}/request`) as RequestFactory;
  const request = factory(args);
  const encoder = await request.encode();
  // copy: the encoder's buffer may be a view on a larger allocation
  return { apiKey: request.apiKey, apiVersion: request.apiVersion, body: Buffer.from(encoder.buffer) };
}

/**
 * A response body (without size and correlation id) as kafkajs's decoder
 * reads it, with the number of bytes it consumed.
 */
export async function kafkajsResponse<T = Record<string, unknown>>(
  api: string,
  version: number,
  body: Buffer,
  /** For the response modules that are factories of the request (deleteRecords): the request's args. */
  requestArgs?: object,
): Promise<{ decoded: T; consumed: number }> {
  const loaded = require(`${requestsDir}/${api}/v${version}/response`) as
    | ResponseModule
    | ((args: object) => ResponseModule);
  const mod = typeof loaded === 'function' ? loaded(requestArgs ?? {}) : loaded;
  opened.length = 0;
  const decoded = (await mod.decode(body)) as T;
  const top = opened.find((d) => d.buffer === body);
  if (!top) throw new Error(`kafkajs ${api} v${version} decoded without a tracked decoder`);
  return { decoded, consumed: top.offset };
}
