/**
 * One TCP connection to one broker, speaking the native protocol: framed
 * msgpack requests with correlation ids, a bounded number in flight (callers
 * beyond the bound wait in a bounded FIFO), a timeout per request, responses
 * matched in request order. A produce with acks 0 has no response: it
 * completes when its bytes are handed to the kernel.
 *
 * A timed-out request closes the connection (as Kafka's clients do): the
 * stream cannot be resynchronised once a response is given up on. Every
 * failure of the connection fails all its requests with a retriable
 * BrokerUnreachable; wasSent(err) tells whether the request's bytes had
 * left this process (a retry of a sent produce may duplicate it).
 */
import net from 'node:net';
import { type ApiKey, apiName } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import {
  decodeResponse,
  encodeRequest,
  encodeRequestChunks,
  FrameReceiver,
  type ReferencedBytes,
} from '../protocol/native/frame.js';
import { msgpackBoundsProblem } from '../protocol/native/msgpack-bounds.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  clientConnectTimeoutMsDefault,
  clientInFlightRequestsDefault,
  clientInFlightRequestsMax,
  clientRequestTimeoutMsDefault,
  clientRequestWaitersMax,
  clientResponseFrameBytesMax,
  requestMsgpackItemsMax,
} from '../shared/limits.js';
import { markRetriable } from './errors.js';
import { authenticate } from './sasl-authenticator.js';
import { type TlsConnectOptions, tlsConnect, tlsFailure } from './tls.js';
import type { ClientSaslOptions } from './types.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxInFlight?: number;
  maxFrameBytes?: number;
  /** TLS (node:tls options, see tls.ts); absent: plaintext. */
  tls?: TlsConnectOptions;
  /** Called once when the connection ends for any reason other than close(). */
  onClose?: (err: Error) => void;
  /** SASL credentials: the connection authenticates right after connecting, before any other request. */
  sasl?: ClientSaslOptions;
}

export interface RequestOptions {
  /** false: the request has no response (produce with acks 0). */
  expectResponse?: boolean;
  /** Overrides the connection's request timeout (a fetch adds its maxWaitMs). */
  timeoutMs?: number;
  apiVersion?: number;
  /**
   * The large byte fields of `body` (a producer's record batches), handed
   * out by `refs.ref`: written from their own buffers, not copied into the
   * frame (the bytes on the wire are the same).
   */
  refs?: ReferencedBytes;
}

/** Writes a frame's chunks in one writev (corked); `done` runs when the last is written. */
function writeChunks(socket: net.Socket, chunks: Buffer[], done: (err?: Error | null) => void): void {
  if (chunks.length === 1) {
    socket.write(chunks[0] as Buffer, done);
    return;
  }
  socket.cork();
  const last = chunks.length - 1;
  for (let i = 0; i < last; i++) socket.write(chunks[i] as Buffer);
  socket.write(chunks[last] as Buffer, done);
  socket.uncork();
}

/** Options of a request that has a response (every request but a produce with acks 0). */
export type AnsweredRequestOptions = RequestOptions & { expectResponse?: true };

/** Sends requests that are answered: a connection, or a wrapper around one. */
export interface AnsweredRequests {
  request<K extends ApiKey>(apiKey: K, body: RequestOf<K>, options?: AnsweredRequestOptions): Promise<ResponseOf<K>>;
}

interface Pending {
  correlationId: number;
  apiKey: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  sent: boolean;
}

const sentErrors = new WeakSet<Error>();

/** True when the failed request's bytes had been written to the socket. */
export function wasSent(err: unknown): boolean {
  return err instanceof Error && sentErrors.has(err);
}

const correlationIdMax = 2 ** 31 - 1;

/** How an HTTP server's answer begins (an HTTP listener answers a native request with 400 Bad Request). */
const httpAnswerPrefix = 'HTTP/';

/** DNS failures of getaddrinfo: the name does not resolve (ENOTFOUND), or not now (EAI_AGAIN). */
const dnsFailureCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA']);

/** What went wrong when a TCP connection could not be opened, in words: the cause first, then the errno. */
export function connectFailure(err: Error, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && dnsFailureCodes.has(code)) return `cannot resolve host ${host} (${code})`;
  if (code === 'ECONNREFUSED') return `nothing listens on ${host}:${port} (connection refused)`;
  if (code === 'ETIMEDOUT') return `no answer from ${host}:${port} (connect timed out)`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${host}:${port} (${code})`;
  return `cannot connect to ${host}:${port}: ${err.message}`;
}

export class Connection {
  readonly host: string;
  readonly port: number;
  private readonly clientId: string;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly maxFrameBytes: number;
  private readonly onClose: ((err: Error) => void) | undefined;
  private readonly tls: TlsConnectOptions | undefined;
  /** A response arrived: a TLS connection closed before any was not refused at the handshake. */
  private answered = false;
  private readonly sasl: ClientSaslOptions | undefined;

  private socket: net.Socket | null = null;
  private state: 'new' | 'connecting' | 'open' | 'closed' = 'new';
  private connecting: Promise<void> | null = null;
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Slots taken: requests awaiting a response plus acks-0 writes not yet flushed. */
  private slots = 0;
  private readonly waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private closeError: Error | null = null;

  constructor(options: ConnectionOptions) {
    this.host = options.host;
    this.port = options.port;
    this.clientId = options.clientId;
    this.connectTimeoutMs = options.connectTimeoutMs ?? clientConnectTimeoutMsDefault;
    this.requestTimeoutMs = options.requestTimeoutMs ?? clientRequestTimeoutMsDefault;
    this.maxInFlight = Math.max(
      1,
      Math.min(options.maxInFlight ?? clientInFlightRequestsDefault, clientInFlightRequestsMax),
    );
    this.maxFrameBytes = options.maxFrameBytes ?? clientResponseFrameBytesMax;
    this.onClose = options.onClose;
    this.tls = options.tls;
    this.sasl = options.sasl;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get inFlight(): number {
    return this.pending.size;
  }

  connect(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(this.unreachable('the connection is closed', false));
    if (this.connecting) return this.connecting;
    this.state = 'connecting';
    this.connecting = new Promise<void>((resolve, reject) => {
      const tlsOptions = this.tls;
      // plaintext: the socket reads into the receiver's memory (frames assembled with no per-read chunk);
      // TLS: its decrypted chunks are copied into that memory (attach), one framing for both
      const receiver = this.frameReceiver();
      const socket = tlsOptions
        ? tlsConnect(this.host, this.port, tlsOptions)
        : net.createConnection({
            host: this.host,
            port: this.port,
            onread: {
              buffer: () => receiver.nextBuffer(),
              callback: (n: number, buf: Uint8Array) => this.onRead(receiver, n, buf),
            },
          });
      const connectEvent = tlsOptions ? 'secureConnect' : 'connect';
      this.socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        fail(
          new SluiceError(
            ErrorCode.BrokerUnreachable,
            `no answer from ${this.address} within ${this.connectTimeoutMs} ms (connect timed out)`,
          ),
        );
      }, this.connectTimeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.off(connectEvent, onConnect);
        const tlsError = tlsOptions ? tlsFailure(err, this.address, true) : undefined;
        const wrapped =
          tlsError ??
          (err instanceof SluiceError
            ? err
            : new SluiceError(ErrorCode.BrokerUnreachable, connectFailure(err, this.host, this.port), {
                cause: err,
              }));
        // a refused certificate stays refused (tlsFailure says which TLS failures may pass on another try)
        if (!tlsError) markRetriable(wrapped);
        this.shutdown(wrapped, false);
        reject(wrapped);
      };
      const onConnect = (): void => {
        clearTimeout(timer);
        socket.off('error', fail);
        this.attach(socket, receiver);
        if (!this.sasl) {
          this.state = 'open';
          resolve();
          return;
        }
        // SASL first: other requests wait (state 'connecting') until it succeeds
        authenticate((apiKey, body) => this.exchange(apiKey, body), this.sasl, this.address).then(
          () => {
            if (this.state !== 'connecting') {
              reject(this.closeError ?? this.unreachable(`connection to ${this.address} closed`, false));
              return;
            }
            this.state = 'open';
            resolve();
          },
          (err: unknown) => {
            // an authentication failure is final (not retriable); a broken connection stays retriable
            const error = err instanceof Error ? err : new Error(String(err));
            this.shutdown(error, false);
            reject(error);
          },
        );
      };
      socket.once(connectEvent, onConnect);
      socket.once('error', fail);
    });
    return this.connecting;
  }

  private frameTooLarge(claimed: number): void {
    this.shutdown(
      new SluiceError(
        ErrorCode.InvalidRequest,
        `${this.address} sent a frame of ${claimed} bytes (limit ${this.maxFrameBytes})`,
      ),
      true,
    );
  }

  private frameReceiver(): FrameReceiver {
    return new FrameReceiver(
      this.maxFrameBytes,
      (payload) => this.onFrame(payload),
      (claimed) => this.frameTooLarge(claimed),
    );
  }

  /** The first bytes of the first answer, until they show it is not an HTTP one (null since). */
  private head: Buffer | null = Buffer.alloc(0);

  /**
   * Checks the first bytes that arrive: an HTTP listener answers "HTTP/1.1 400 ..." (read as a
   * frame length that is the ASCII of "HTTP"); say so instead of reporting a frame of that size.
   * False when the connection was shut down for it.
   */
  private checkHead(chunk: Uint8Array): boolean {
    if (this.head === null) return true;
    const head = Buffer.concat([this.head, chunk.subarray(0, httpAnswerPrefix.length)]);
    this.head = head;
    if (head.length < httpAnswerPrefix.length && httpAnswerPrefix.startsWith(head.toString('latin1'))) return true;
    this.head = null;
    if (head.subarray(0, httpAnswerPrefix.length).toString('latin1') !== httpAnswerPrefix) return true;
    this.shutdown(
      new SluiceError(
        ErrorCode.WrongListener,
        `${this.address} is an HTTP listener (the admin console/API?), not a native one: the native listener is the broker's \`port\` (9092 in config/server.properties)`,
      ),
      true,
    );
    return false;
  }

  /** A plaintext socket's read of `n` bytes into `buf` (the receiver's memory); true: read on. */
  private onRead(receiver: FrameReceiver, n: number, buf: Uint8Array): boolean {
    if (this.head !== null && !this.checkHead(buf.subarray(0, n))) return false;
    receiver.filled(n);
    return true;
  }

  private attach(socket: net.Socket, receiver: FrameReceiver): void {
    if (this.tls) {
      socket.on('data', (chunk: Buffer) => {
        if (this.head === null || this.checkHead(chunk)) receiver.push(chunk);
      });
    }
    socket.on('error', (err) =>
      this.shutdown(
        (this.tls && tlsFailure(err, this.address, false)) ||
          this.unreachable(`connection to ${this.address} failed: ${err.message}`, false, err),
        true,
      ),
    );
    socket.on('close', () => {
      if (this.tls?.cert !== undefined && !this.answered) {
        // TLS 1.3 ends the handshake before the broker checks the client certificate: a refusal closes the
        // connection at once (retriable: a broker going down just then looks the same)
        const refused = new SluiceError(
          ErrorCode.TlsFailed,
          `TLS to the broker at ${this.address} failed: it closed the connection before answering (did it refuse the client certificate: untrusted or expired?)`,
        );
        this.shutdown(markRetriable(refused), true);
        return;
      }
      // a TLS listener drops a plaintext request without a word
      if (!this.tls && !this.answered) {
        // a Kafka listener (Apache Kafka's, or Sluice's kafka.port on an older broker) drops a native
        // request without a word, and so does a TLS listener a plaintext one
        this.shutdown(
          this.unreachable(
            `${this.address} closed the connection without answering: is it a Kafka listener? Sluice's native listener is the broker's \`port\` (9092 in config/server.properties); is it an SSL listener? set the ssl option`,
            false,
          ),
          true,
        );
        return;
      }
      this.shutdown(this.unreachable(`connection to ${this.address} closed`, false), true);
    });
  }

  private onFrame(payload: Buffer): void {
    let decoded: { correlationId: number; body: unknown };
    try {
      decoded = decodeResponse(payload);
    } catch (err) {
      this.shutdown(
        new SluiceError(ErrorCode.InvalidRequest, `undecodable response from ${this.address}`, { cause: err }),
        true,
      );
      return;
    }
    const p = this.pending.get(decoded.correlationId);
    if (!p) {
      this.shutdown(
        new SluiceError(
          ErrorCode.InvalidRequest,
          `${this.address} answered unknown correlation id ${decoded.correlationId}`,
        ),
        true,
      );
      return;
    }
    // responses come in request order: the oldest pending must be this one
    const oldest = this.pending.keys().next().value;
    if (oldest !== decoded.correlationId) {
      this.shutdown(
        new SluiceError(
          ErrorCode.InvalidRequest,
          `${this.address} answered correlation id ${decoded.correlationId} before ${oldest}`,
        ),
        true,
      );
      return;
    }
    const body = decoded.body as { wrongListener?: unknown; errorMessage?: unknown } | null;
    if (!this.answered && typeof body === 'object' && body !== null && body.wrongListener === true) {
      // Sluice's Kafka listener answered a native request: its message names the native port
      const message =
        typeof body.errorMessage === 'string' ? body.errorMessage : `${this.address} is no native listener`;
      this.shutdown(new SluiceError(ErrorCode.WrongListener, message), true);
      return;
    }
    this.pending.delete(p.correlationId);
    this.answered = true;
    if (p.timer) clearTimeout(p.timer);
    this.release();
    if (typeof decoded.body !== 'object' || decoded.body === null) {
      p.reject(
        new SluiceError(ErrorCode.InvalidRequest, `${apiName(p.apiKey)} response from ${this.address} is not a map`),
      );
      return;
    }
    p.resolve(decoded.body);
  }

  /**
   * Sends one request of API K, typed by the native API registry
   * (src/protocol/native/apis.ts); resolves with K's response body (or
   * undefined when none is expected). The answer is the broker's handler of
   * K's, so it is taken as K's response; a request refused as a whole carries
   * only errorCode and errorMessage, which callers check first (checkTopLevel).
   */
  request<K extends ApiKey>(apiKey: K, body: RequestOf<K>, options?: AnsweredRequestOptions): Promise<ResponseOf<K>>;
  request<K extends ApiKey>(apiKey: K, body: RequestOf<K>, options: RequestOptions): Promise<ResponseOf<K> | undefined>;
  request<K extends ApiKey>(apiKey: K, body: RequestOf<K>, options: RequestOptions = {}): Promise<unknown> {
    return this.send(apiKey, body, options);
  }

  /** The transport under request(): sends any body and resolves with the answer as decoded (undefined when none is expected). */
  send(apiKey: number, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    // an open connection sends at once: no promise to wait on before the request's own (one per produce
    // request and per fetch: the client's garbage per request, which sets how often it collects)
    if (this.state !== 'open') return this.connect().then(() => this.sendNow(apiKey, body, options, 'open'));
    return this.sendNow(apiKey, body, options, 'open');
  }

  /** A request of the SASL exchange, sent while the connection is still 'connecting'. */
  private exchange<K extends ApiKey>(apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>> {
    return this.sendNow(apiKey, body, {}, 'connecting') as Promise<ResponseOf<K>>;
  }

  /** Sends once a slot is free: at once when one is (the request written before this returns). */
  private sendNow(
    apiKey: number,
    body: unknown,
    options: RequestOptions,
    state: 'open' | 'connecting',
  ): Promise<unknown> {
    if (this.slots < this.maxInFlight) {
      this.slots++;
      return this.sendInSlot(apiKey, body, options, state);
    }
    return this.acquire().then(() => this.sendInSlot(apiKey, body, options, state));
  }

  /** Writes the request in the slot taken for it; every failure is a rejection (never a throw). */
  private sendInSlot(
    apiKey: number,
    body: unknown,
    options: RequestOptions,
    state: 'open' | 'connecting',
  ): Promise<unknown> {
    if (this.state !== state) {
      this.release();
      return Promise.reject(this.closeError ?? this.unreachable(`connection to ${this.address} is closed`, false));
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = correlationId >= correlationIdMax ? 1 : correlationId + 1;
    let frame: Buffer[];
    try {
      const header = { apiKey, apiVersion: options.apiVersion ?? 0, correlationId, clientId: this.clientId };
      const refs = options.refs;
      frame = refs && refs.buffers.length > 0 ? encodeRequestChunks(header, body, refs) : [encodeRequest(header, body)];
    } catch (err) {
      this.release();
      return Promise.reject(
        new SluiceError(ErrorCode.InvalidArgument, `cannot encode ${apiName(apiKey)} request`, { cause: err }),
      );
    }
    // a broker closes the connection on a request it may not decode (more than requestMsgpackItemsMax values),
    // which would look like a broken connection and be retried for ever: refused here instead, with the reason.
    // Every value takes a byte at least, so a frame with fewer bytes of msgpack (its referenced record
    // batches are one value each) is not walked: a produce request never is.
    let structure = -4;
    for (const chunk of frame) structure += chunk.length;
    for (const referenced of options.refs?.buffers ?? []) structure -= referenced.length;
    if (structure > requestMsgpackItemsMax) {
      const whole = frame.length === 1 ? (frame[0] as Buffer) : Buffer.concat(frame);
      const problem = msgpackBoundsProblem(whole.subarray(4));
      if (problem) {
        this.release();
        return Promise.reject(
          new SluiceError(
            ErrorCode.InvalidArgument,
            `${apiName(apiKey)} request is too large for a broker to decode (${problem}): nothing sent`,
          ),
        );
      }
    }
    const socket = this.socket as net.Socket;
    if (options.expectResponse === false) {
      return new Promise<unknown>((resolve, reject) => {
        writeChunks(socket, frame, (err) => {
          this.release();
          if (err) reject(this.unreachable(`write to ${this.address} failed: ${err.message}`, false, err));
          else resolve(undefined);
        });
      });
    }
    return new Promise<unknown>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const p: Pending = {
        correlationId,
        apiKey,
        resolve,
        reject,
        sent: false,
        timer: setTimeout(() => {
          const err = markRetriable(
            new SluiceError(
              ErrorCode.Timeout,
              `no answer from ${this.address} within ${timeoutMs} ms (${apiName(apiKey)} request timed out)`,
            ),
          );
          if (p.sent) sentErrors.add(err);
          this.pending.delete(correlationId);
          this.release();
          reject(err);
          this.shutdown(
            this.unreachable(`connection to ${this.address} dropped after a request timed out`, false),
            true,
          );
        }, timeoutMs),
      };
      this.pending.set(correlationId, p);
      writeChunks(socket, frame, (err) => {
        if (!err) p.sent = true;
      });
    });
  }

  private acquire(): Promise<void> {
    if (this.slots < this.maxInFlight) {
      this.slots++;
      return Promise.resolve();
    }
    if (this.waiters.length >= clientRequestWaitersMax) {
      return Promise.reject(
        new SluiceError(ErrorCode.Timeout, `more than ${clientRequestWaitersMax} requests wait for ${this.address}`),
      );
    }
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Hands the slot to the next waiter, or frees it. */
  private release(): void {
    if (this.state === 'closed') return;
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.slots--;
  }

  private unreachable(message: string, sent: boolean, cause?: unknown): SluiceError {
    const err = markRetriable(
      new SluiceError(ErrorCode.BrokerUnreachable, message, cause === undefined ? undefined : { cause }),
    );
    if (sent) sentErrors.add(err);
    return err;
  }

  /** Ends the connection and fails everything pending with `err`. */
  private shutdown(err: Error, notify: boolean): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.closeError = err;
    this.socket?.destroy();
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      const e =
        err instanceof SluiceError && err.code === ErrorCode.BrokerUnreachable
          ? this.unreachable(`${apiName(p.apiKey)} request failed: ${err.message}`, p.sent, err)
          : err;
      p.reject(e);
    }
    this.pending.clear();
    for (const w of this.waiters.splice(0)) w.reject(this.unreachable(err.message, false, err));
    this.slots = 0;
    if (notify && wasOpen) this.onClose?.(err);
  }

  /** Closes the connection; requests still pending fail with ClientClosed. */
  close(): void {
    this.shutdown(new SluiceError(ErrorCode.ClientClosed, `connection to ${this.address} was closed`), false);
  }
}
