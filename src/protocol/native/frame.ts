/**
 * Framing and the envelope of the native protocol.
 *
 *   frame    = length:int32 (big-endian, bytes that follow) | payload
 *   request  = msgpack [apiKey, apiVersion, correlationId, clientId, body]
 *   response = msgpack [correlationId, body]
 *
 * A connection may carry many requests in flight; responses come back in
 * request order (Kafka's rule). Produce with acks 0 gets no response.
 */
import { randomBytes } from 'node:crypto';
import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { requestStringLengthMax } from '../../shared/limits.js';

export const frameHeaderBytes = 4;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string;
}

/**
 * Packs `value` behind a length prefix in one buffer: msgpackr leaves room
 * for the prefix (RESERVE_START_SPACE), so a frame costs no second copy of
 * its payload (for a 1 MiB produce request that copy was 8% of the client).
 */
function framed(value: unknown): Buffer {
  const frame = packr.pack(value, RESERVE_START_SPACE | frameHeaderBytes);
  frame.writeInt32BE(frame.length - frameHeaderBytes, 0);
  return frame;
}

export function encodeRequest(header: RequestHeader, body: unknown): Buffer {
  return framed([header.apiKey, header.apiVersion, header.correlationId, header.clientId, body]);
}

export function encodeResponse(correlationId: number, body: unknown): Buffer {
  return framed([correlationId, body]);
}

/**
 * Byte fields at least this long are not copied into a response frame: the
 * frame's chunks reference them and go out in one (corked) socket write, as
 * the Kafka listener sends fetched batches (KafkaWriter). 8 KiB is the Kafka
 * listener's threshold too: below it a copy costs less than another chunk.
 */
export const referencedBytesMin = 8192;

/** A sentinel is this process's random nonce, then the index of the buffer it stands for (uint32). */
const sentinelNonce = randomBytes(12);
const sentinelBytes = sentinelNonce.length + 4;
/** msgpack's bin 8, bin 16 and bin 32 heads: a sentinel packs as bin 8 (2 bytes of head). */
const bin8 = 0xc4;
const bin16 = 0xc5;
const bin32 = 0xc6;

/**
 * The large byte fields of one response: `ref` hands the packer a 16-byte
 * sentinel in place of each, and encodeResponseChunks puts the buffer itself
 * back in the frame's chunks. The bytes on the wire are what packing the
 * buffers would have produced (the same bin 16 / bin 32 heads msgpack picks),
 * so a reader decodes the frame as it always has.
 */
export class ReferencedBytes {
  readonly buffers: Buffer[] = [];

  /** `bytes` itself when it is short (packed as usual), else a sentinel to pack in its place. */
  ref(bytes: Buffer): Buffer {
    if (bytes.length < referencedBytesMin) return bytes;
    const sentinel = Buffer.allocUnsafe(sentinelBytes);
    sentinelNonce.copy(sentinel, 0);
    sentinel.writeUInt32BE(this.buffers.length, sentinelNonce.length);
    this.buffers.push(bytes);
    return sentinel;
  }
}

/**
 * A response frame as chunks: the envelope packed once (small), with each
 * referenced buffer between its pieces, uncopied. `body` holds the sentinels
 * `refs.ref` handed out, each exactly once, in packing order.
 */
export function encodeResponseChunks(correlationId: number, body: unknown, refs: ReferencedBytes): Buffer[] {
  return framedChunks([correlationId, body], refs);
}

/**
 * A request frame as chunks, as encodeResponseChunks: a producer's record
 * batches go out uncopied (their bytes on the wire are what encodeRequest
 * would have written).
 */
export function encodeRequestChunks(header: RequestHeader, body: unknown, refs: ReferencedBytes): Buffer[] {
  return framedChunks([header.apiKey, header.apiVersion, header.correlationId, header.clientId, body], refs);
}

function framedChunks(value: unknown, refs: ReferencedBytes): Buffer[] {
  const frame = packr.pack(value, RESERVE_START_SPACE | frameHeaderBytes);
  const chunks: Buffer[] = [];
  let payloadBytes = frame.length - frameHeaderBytes;
  let from = 0;
  const buffers = refs.buffers;
  for (let i = 0; i < buffers.length; i++) {
    const bytes = buffers[i] as Buffer;
    const at = frame.indexOf(sentinelNonce, from);
    const head = at - 2;
    if (
      at < frameHeaderBytes + 2 ||
      frame[head] !== bin8 ||
      frame[head + 1] !== sentinelBytes ||
      frame.readUInt32BE(at + sentinelNonce.length) !== i
    ) {
      throw new Error(`referenced buffer ${i} of ${buffers.length} is not where the envelope packed it`);
    }
    // the head overwrites the sentinel's start: the bytes before it and the head are one chunk
    let headBytes: number;
    if (bytes.length <= 0xffff) {
      frame[head] = bin16;
      frame.writeUInt16BE(bytes.length, head + 1);
      headBytes = 3;
    } else {
      frame[head] = bin32;
      frame.writeUInt32BE(bytes.length, head + 1);
      headBytes = 5;
    }
    chunks.push(frame.subarray(from, head + headBytes), bytes);
    payloadBytes += headBytes + bytes.length - (2 + sentinelBytes);
    from = at + sentinelBytes;
  }
  if (from < frame.length) chunks.push(frame.subarray(from));
  frame.writeInt32BE(payloadBytes, 0);
  return chunks;
}

function invalid(message: string, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.InvalidRequest, message, cause === undefined ? undefined : { cause });
}

/** Decodes a request payload (without its length prefix). Throws InvalidRequest. */
export function decodeRequest(payload: Buffer): { header: RequestHeader; body: unknown } {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (err) {
    throw invalid(`undecodable request: ${(err as Error).message}`, err);
  }
  if (!Array.isArray(value) || value.length !== 5)
    throw invalid('a request is [apiKey, apiVersion, correlationId, clientId, body]');
  const [apiKey, apiVersion, correlationId, clientId, body] = value as unknown[];
  if (!Number.isInteger(apiKey) || !Number.isInteger(apiVersion) || !Number.isInteger(correlationId)) {
    throw invalid('apiKey, apiVersion and correlationId must be integers');
  }
  if (typeof clientId !== 'string') throw invalid('clientId must be a string');
  // echoed to Kafka clients (group members) as a Kafka STRING: an int16 count of bytes
  if (clientId.length > requestStringLengthMax || Buffer.byteLength(clientId, 'utf8') > requestStringLengthMax) {
    throw invalid(`clientId must be at most ${requestStringLengthMax} UTF-8 bytes`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('a request body must be a map');
  return {
    header: {
      apiKey: apiKey as number,
      apiVersion: apiVersion as number,
      correlationId: correlationId as number,
      clientId,
    },
    body,
  };
}

/** Decodes a response payload (without its length prefix). */
export function decodeResponse(payload: Buffer): { correlationId: number; body: unknown } {
  const value = packr.unpack(payload) as unknown;
  if (!Array.isArray(value) || value.length !== 2 || !Number.isInteger(value[0])) {
    throw invalid('a response is [correlationId, body]');
  }
  return { correlationId: value[0] as number, body: value[1] };
}

/** The reused memory a FrameReceiver reads frame heads and small frames into. */
const receiveScratchBytes = 64 * 1024;

/**
 * Splits a byte stream into frames. Bounded: a frame longer than
 * `maxFrameBytes` is reported through onOversize and the receiver stops (the
 * caller closes the connection), so no unbounded buffer ever grows.
 *
 * Made for a socket that reads into memory it is given (net.Socket's `onread`
 * option): the socket asks nextBuffer() where to put its next read and
 * reports it with filled(). A stream that comes as chunks (a TLS socket's
 * 'data' events) is fed with push(), which copies each chunk into that same
 * memory: one framing for both.
 * Frame heads and the frames that arrive whole in one read land in one reused
 * scratch buffer (each such frame is copied out: small); once a frame's head
 * says it is longer than what has arrived, a buffer of its size is allocated,
 * the bytes so far copied into it, and the socket reads the rest straight
 * into it. A large fetch answer is so read with no further copy and no
 * per-read chunk (with 'data' events each 64 KiB read was a fresh buffer,
 * then copied again into the frame: two allocations of every byte).
 *
 * A payload handed to onFrame is its own memory: never written again (views
 * of it, such as fetched records' values, stay as they are).
 */
export class FrameReceiver {
  private readonly scratch = Buffer.allocUnsafeSlow(receiveScratchBytes);
  /** Unparsed bytes in scratch: [start, end). */
  private start = 0;
  private end = 0;
  /** The payload being read into (its head already parsed), and how much of it has arrived. */
  private frame: Buffer | null = null;
  private frameFilled = 0;
  private failed = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (payload: Buffer) => void,
    private readonly onOversize: (claimedBytes: number) => void,
  ) {}

  /** Where the socket's next read goes. */
  nextBuffer(): Buffer {
    if (this.frame !== null) return this.frame.subarray(this.frameFilled);
    return this.scratch.subarray(this.end);
  }

  /**
   * A chunk of the stream read into other memory (a TLS socket's 'data'):
   * copied into the receiver's memory as the socket's reads would have been.
   * The chunk is not kept (its memory may be reused once this returns).
   */
  push(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.length && !this.failed) {
      const into = this.nextBuffer();
      const n = Math.min(into.length, chunk.length - from);
      into.set(chunk.subarray(from, from + n));
      from += n;
      this.filled(n);
    }
  }

  /** The socket read `n` bytes into the buffer nextBuffer() gave. */
  filled(n: number): void {
    if (this.failed || n <= 0) return;
    const frame = this.frame;
    if (frame !== null) {
      this.frameFilled += n;
      if (this.frameFilled < frame.length) return;
      this.frame = null;
      this.frameFilled = 0;
      this.onFrame(frame);
      return;
    }
    this.end += n;
    this.parse();
  }

  private parse(): void {
    const scratch = this.scratch;
    while (!this.failed && this.frame === null && this.end - this.start >= frameHeaderBytes) {
      const length = scratch.readInt32BE(this.start);
      if (length < 0 || length > this.maxFrameBytes) {
        this.failed = true;
        this.start = this.end = 0;
        this.onOversize(length);
        return;
      }
      const at = this.start + frameHeaderBytes;
      const have = this.end - at;
      // its own memory (the scratch is read into again): allocUnsafe takes small ones from Node's pool
      const payload = Buffer.allocUnsafe(length);
      if (have >= length) {
        scratch.copy(payload, 0, at, at + length);
        this.start = at + length;
        this.onFrame(payload);
        continue;
      }
      // the rest of this frame is read straight into its own buffer
      scratch.copy(payload, 0, at, this.end);
      this.frame = payload;
      this.frameFilled = have;
      this.start = this.end = 0;
      return;
    }
    if (this.start === this.end) this.start = this.end = 0;
    else if (this.start > 0) {
      // a partial head at the end: moved to the front
      scratch.copy(scratch, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }
}
