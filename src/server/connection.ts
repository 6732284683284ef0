/**
 * One client connection of either listener (the codec says which protocol):
 * frames in, requests dispatched concurrently,
 * responses written strictly in request order (Kafka's rule). Reading pauses
 * while too many requests are in flight, the socket's send buffer is full, or
 * the next frame waits for the broker's request memory pool (each frame holds
 * its pool reservation until it is answered). An oversized or undecodable
 * frame, or one that does not arrive whole within socket.request.read.timeout.ms,
 * closes the connection, as does connections.max.idle.ms without traffic; a
 * bad request body gets an error response; nothing a client sends can crash the broker.
 * A failed SASL authentication is answered, and the connection closed, only after
 * connection.failed.authentication.delay.ms (Kafka's), on both listeners.
 */
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ClientInfo, Handler, HandlerContext, HandlerTable } from '../handlers/context.js';
import { toWireError, WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { NativeAnswer, ResponseOf } from '../protocol/native/apis.js';
import type { ParsedRequest } from '../protocol/native/request-check.js';
import { anonymousPrincipal, type Principal, userPrincipal } from '../security/principal.js';
import { type CredentialLookup, type CredentialsReady, SaslServerSession } from '../security/sasl-server.js';
import type { SaslMechanism } from '../security/security-protocol.js';
import { crashOnBug } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { connectionCloseListenersMax, connectionInFlightMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import type { RequestMemoryPool } from './request-memory-pool.js';
import { RequestReceiver } from './request-receiver.js';
import { type RequestMeter, requestTimer } from './request-time.js';
import type { Route, ServerCodec } from './server-codec.js';

/** Why the broker closed a connection on its own (counted in sluice_connections_closed_total). */
export type CloseReason = 'frame_timeout' | 'idle' | 'invalid_frame' | 'tls_handshake' | 'unauthenticated';

/**
 * SASL on a SASL_PLAINTEXT or SASL_SSL listener: the mechanisms it accepts
 * and where credentials are looked up. Until a connection authenticates only
 * ApiVersions, SaslHandshake and SaslAuthenticate are served; any other
 * request closes it after connection.failed.authentication.delay.ms, unanswered
 * (Kafka's SaslServerAuthenticator does the same).
 */
export interface ConnectionSasl {
  mechanisms: readonly SaslMechanism[];
  lookup: CredentialLookup;
  /** Waits (bounded) for the credential store's first load; without it lookups are taken as they are. */
  credentialsReady?: CredentialsReady;
}

/** The APIs a SASL connection may send before it has authenticated. */
const beforeAuthentication = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

/** What bounds a connection, shared by every connection of both listeners. */
export interface ConnectionLimits {
  /** Connections the broker closed, by reason. */
  closed: Record<CloseReason, number>;
  /** socket.request.max.bytes */
  maxFrameBytes: number;
  /** socket.request.read.timeout.ms */
  frameReadTimeoutMs: number;
  /** connections.max.idle.ms */
  idleMs: number;
  /** connection.failed.authentication.delay.ms: how long a failed SASL authentication waits for its answer and close. */
  failedAuthenticationDelayMs: number;
  pool: RequestMemoryPool;
}

/** A socket's `onread` option (net.Socket): where each read goes, and what it brought. */
export interface SocketOnRead {
  buffer: () => Buffer;
  callback: (n: number, buf: Uint8Array) => boolean;
}

/**
 * Makes a plaintext connection's socket around the given `onread` (the
 * listener hands over an accepted socket's handle): the connection's frames are
 * then read straight into their own memory (request-receiver.ts).
 */
export type ReadingSocket = (onread: SocketOnRead) => net.Socket;

/** Logs that a connection is being closed and why (rate-limited by the listener). */
export type CloseWarning = (fields: Record<string, unknown>) => void;

interface Slot {
  /** The encoded response (chunks), null for none (acks 0); undefined while pending. */
  frame: Buffer[] | null | undefined;
}

let nextConnectionId = 1;

/** The throttle time a Produce or Fetch answer asks for (0 for any other answer). */
function throttleOf(response: NativeAnswer | undefined): number {
  const ms = (response as { throttleTimeMs?: unknown } | undefined)?.throttleTimeMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}

/**
 * Requests Kafka does not count against request_percentage (KafkaApis's
 * sendResponseExemptThrottle): a follower's (ClusterAction) fetches, and the
 * SASL exchange, which Kafka's authenticator serves outside its request handlers.
 */
function exemptFromRequestQuota(route: Route): boolean {
  if ('reply' in route) return false;
  if (route.apiKey === ApiKey.SaslHandshake || route.apiKey === ApiKey.SaslAuthenticate) return true;
  if (route.apiKey === ApiKey.Fetch || route.apiKey === ApiKey.OffsetForLeaderEpoch) {
    return ((route.body as { replicaId?: number }).replicaId ?? -1) >= 0;
  }
  return false;
}

/** An answer that failed as a whole for want of ClusterAction: a follower's request Kafka does throttle. */
function clusterAuthorizationFailed(response: NativeAnswer | undefined): boolean {
  return (response as { errorCode?: unknown } | undefined)?.errorCode === WireError.CLUSTER_AUTHORIZATION_FAILED;
}

/** A frame length whose bytes begin a TLS record (handshake 0x16 or alert 0x15, version 3.x): a TLS client. */
function looksLikeTls(claimed: number): boolean {
  const type = claimed >>> 24;
  return (type === 0x16 || type === 0x15) && ((claimed >>> 16) & 0xff) === 0x03;
}

/** Runs K's handler on K's request: the table pairs each key with its handler, so the types stay paired. */
function handle<K extends ApiKey>(
  handlers: HandlerTable,
  request: ParsedRequest<K>,
  ctx: HandlerContext,
  client: ClientInfo,
): Promise<ResponseOf<K> | undefined> {
  const handler: Handler<K> = handlers[request.apiKey];
  return handler.handle(request.body, ctx, client);
}

export class Connection<R> {
  readonly id = nextConnectionId++;
  /** Who this connection acts for: set by TLS client certificates or SASL authentication. */
  principal: Principal = anonymousPrincipal;
  private readonly slots: Slot[] = [];
  private readonly closeListeners = new Set<() => void>();
  private readonly reader: RequestReceiver;
  private readonly socket: net.Socket;
  private closed = false;
  /** The last request's ClientInfo: reused while its client id and principal stay the same. */
  private client: ClientInfo | undefined;
  /** The socket is corked until the end of this tick (corkForTick). */
  private corked = false;
  private idle: (() => void) | undefined;
  /** performance.now() of the last byte read or response written. */
  private lastActivityAt = performance.now();
  /** The SASL state on a SASL listener (sasl-server.ts); undefined on any other. */
  private readonly sasl: SaslServerSession | undefined;
  /** Set while the connection is muted for a quota's throttle time (no request is read). */
  private muteTimer: NodeJS.Timeout | undefined;
  /** When the current mute ends (performance.now() time). */
  private mutedUntil = 0;
  /**
   * A failed SASL authentication's delay (Kafka's connection.failed.authentication.delay.ms):
   * running while the failure's answer waits; 'over' once it may be written and the connection closed.
   */
  private failureDelay: NodeJS.Timeout | 'over' | undefined;

  constructor(
    /** The connection's socket ('data' chunks: TLS), or how to make it around an `onread` (plaintext). */
    source: net.Socket | ReadingSocket,
    private readonly codec: ServerCodec<R>,
    private readonly handlers: HandlerTable,
    private readonly ctx: HandlerContext,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly warnClose: CloseWarning = (fields) => log.warn(fields, 'closing connection'),
    sasl?: ConnectionSasl,
  ) {
    if (sasl) {
      this.sasl = new SaslServerSession(
        sasl.mechanisms,
        sasl.lookup,
        (user) => {
          this.principal = userPrincipal(user);
        },
        sasl.credentialsReady,
      );
    }
    const onFrame = (payload: Buffer, reservedBytes: number): void => this.onFrame(payload, reservedBytes);
    const onOversize = (claimed: number): void =>
      this.fail(
        'invalid_frame',
        looksLikeTls(claimed)
          ? 'a TLS handshake on a PLAINTEXT listener (the client uses TLS, this listener does not)'
          : `frame of ${claimed} bytes exceeds socket.request.max.bytes (${limits.maxFrameBytes}) or queued.max.request.bytes`,
      );
    const onUnblocked = (): void => this.updateFlow();
    const receiver = new RequestReceiver(limits.pool, limits.maxFrameBytes, onFrame, onOversize, onUnblocked);
    this.reader = receiver;
    let socket: net.Socket;
    if (typeof source === 'function') {
      socket = source({
        buffer: () => receiver.nextBuffer(),
        callback: (n) => {
          this.lastActivityAt = performance.now();
          receiver.filled(n);
          this.updateFlow();
          return true;
        },
      });
    } else {
      // TLS: the socket's own chunks, copied in
      socket = source;
      socket.on('data', (chunk) => {
        this.lastActivityAt = performance.now();
        receiver.push(chunk);
        this.updateFlow();
      });
    }
    this.socket = socket;
    socket.on('drain', () => this.updateFlow());
    socket.on('error', (err) => this.log.debug({ err }, 'connection error'));
    socket.on('close', () => {
      this.closed = true;
      if (this.muteTimer) clearTimeout(this.muteTimer);
      if (this.failureDelay !== undefined && this.failureDelay !== 'over') clearTimeout(this.failureDelay);
      this.reader.stop();
      this.idle?.();
      for (const listener of this.closeListeners) {
        try {
          listener();
        } catch (err) {
          this.log.error({ err }, 'connection close listener failed');
        }
      }
      this.closeListeners.clear();
    });
  }

  get inFlight(): number {
    return this.slots.length;
  }

  /** Resolves once every accepted request has been answered (or the socket closed). */
  drained(): Promise<void> {
    if (this.slots.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle = resolve;
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /**
   * Closes the connection when its incomplete frame is older than
   * socket.request.read.timeout.ms, or when it has had nothing in flight and no
   * traffic for connections.max.idle.ms. Called by the listener's sweep.
   */
  checkTimeouts(now: number): void {
    if (this.closed) return;
    const frameStartedAt = this.reader.frameStartedAt;
    // not while the broker itself stopped reading because its own backlog is full (the
    // frame is read once it drains); a frame waiting for pool memory is not spared: its
    // client gives up on the request at about the same time
    const backlogged = this.slots.length >= connectionInFlightMax;
    if (frameStartedAt !== undefined && !backlogged && now - frameStartedAt > this.limits.frameReadTimeoutMs) {
      this.fail(
        'frame_timeout',
        `a frame did not arrive whole within socket.request.read.timeout.ms (${this.limits.frameReadTimeoutMs})`,
      );
      return;
    }
    if (this.slots.length === 0 && frameStartedAt === undefined && now - this.lastActivityAt > this.limits.idleMs) {
      this.log.debug({ remote: this.socket.remoteAddress, idleMs: this.limits.idleMs }, 'closing idle connection');
      this.limits.closed.idle++;
      this.socket.destroy();
    }
  }

  private onClose(listener: () => void): void {
    if (this.closed) {
      listener();
      return;
    }
    if (this.closeListeners.size >= connectionCloseListenersMax) {
      throw new SluiceError(
        ErrorCode.InvalidRequest,
        `more than ${connectionCloseListenersMax} queue consumers on one connection`,
      );
    }
    this.closeListeners.add(listener);
  }

  private fail(why: CloseReason, reason: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.limits.closed[why]++;
    this.warnClose({ remote: this.socket.remoteAddress, reason });
    this.reader.stop();
    this.socket.destroy();
  }

  private onFrame(payload: Buffer, reservedBytes: number): void {
    if (this.sasl?.rawTokens && !this.sasl.authenticated) {
      this.onRawToken(this.sasl, payload, reservedBytes);
      return;
    }
    // request_percentage: this request's handling time, measured only while some quota sets it
    const quotas = this.ctx.quotas;
    const measuring = quotas?.measuresRequestTime === true;
    requestTimer.setEnabled(measuring);
    const meter: RequestMeter | undefined = measuring ? { ms: 0 } : undefined;
    const decodeStarted = meter ? performance.now() : 0;
    let request: R;
    try {
      request = this.codec.decode(payload);
    } catch (err) {
      // without a decodable header no response can be matched: close
      this.limits.pool.release(reservedBytes);
      // a frame of another protocol this listener recognises (a native request on the Kafka
      // listener) is answered in that protocol first, saying where to go, when nothing else is owed
      const answer =
        this.slots.length === 0
          ? this.codec.misdirected?.(payload, `${this.socket.localAddress}:${this.socket.localPort}`)
          : undefined;
      if (answer && !this.closed && !this.socket.destroyed) {
        this.limits.closed.invalid_frame++;
        this.warnClose({ remote: this.socket.remoteAddress, reason: (err as Error).message });
        this.reader.stop();
        this.socket.end(answer);
        return;
      }
      this.fail('invalid_frame', (err as Error).message);
      return;
    }
    if (meter) meter.ms += performance.now() - decodeStarted;
    const api = this.codec.apiName(request);
    if (this.sasl?.mustClose) {
      // the answer that ends the connection is on its way: nothing after it is served
      this.limits.pool.release(reservedBytes);
      return;
    }
    const slot: Slot = { frame: undefined };
    this.slots.push(slot);
    this.updateFlow();
    const client = this.clientInfo(this.codec.clientId(request));
    // before a SASL connection authenticates, Kafka's authenticator (not its request handlers) serves it
    let exempt = this.sasl !== undefined && !this.sasl.authenticated;
    let work: Promise<NativeAnswer | undefined> | undefined;
    const start = (): Promise<NativeAnswer | undefined> | undefined => {
      const route = this.codec.route(request);
      if (this.sasl && !this.sasl.authenticated && 'apiKey' in route && !beforeAuthentication.has(route.apiKey)) {
        return undefined;
      }
      exempt ||= exemptFromRequestQuota(route);
      return 'reply' in route ? Promise.resolve(route.reply) : handle(this.handlers, route, this.ctx, client);
    };
    try {
      work = meter ? requestTimer.run(meter, start) : start();
      if (!work) {
        // Kafka's IllegalSaslStateException, an authentication failure: closed after the failure delay too
        this.slots.pop();
        this.limits.pool.release(reservedBytes);
        this.limits.closed.unauthenticated++;
        this.warnClose({ remote: this.socket.remoteAddress, reason: `${api} request before SASL authentication` });
        this.sasl?.refuse(`${api} request before SASL authentication`);
        this.writeReady();
        return;
      }
    } catch (err) {
      work = Promise.reject(err);
    }
    const metrics = this.ctx.metrics;
    if (metrics) {
      const started = process.hrtime.bigint();
      work = work.finally(() => metrics.request(api, Number(process.hrtime.bigint() - started) / 1e9));
    }
    work
      .catch((err: unknown) => {
        // a broken invariant below a handler is a bug: stop the broker rather than answer on corrupt state
        crashOnBug(err);
        const wire = toWireError(err);
        if (wire.errorCode === WireError.UNKNOWN_SERVER_ERROR) {
          this.log.error({ err, api }, 'request failed');
        }
        return wire;
      })
      .then((response) => {
        // the request's bytes are no longer needed once it is answered
        this.limits.pool.release(reservedBytes);
        // Kafka's throttle of a Produce or Fetch is the larger of its byte-rate and request-time ones
        let throttleMs = throttleOf(response);
        // no answer (produce with acks 0): Kafka neither records nor enforces the request quota
        const counted = meter !== undefined && response !== undefined;
        const exemptAnswer = exempt && !clusterAuthorizationFailed(response);
        if (counted && quotas) {
          if (exemptAnswer) quotas.exemptRequestTime(meter.ms);
          else throttleMs = Math.max(throttleMs, quotas.requestTime(client, meter.ms, true));
        }
        this.muteFor(throttleMs);
        if (this.sasl?.closeUnanswered) {
          // the credentials were not loaded in time: a dropped connection, which clients retry
          this.limits.closed.unauthenticated++;
          this.warnClose({ remote: this.socket.remoteAddress, reason: this.sasl.failure });
          slot.frame = null;
          this.writeReady();
          return;
        }
        const encodeStarted = meter ? performance.now() : 0;
        try {
          slot.frame = this.codec.encode(request, response, throttleMs);
        } catch (err) {
          // a response that cannot be encoded is a bug: the client cannot be answered in order any more
          this.log.error({ err, api }, 'response could not be encoded; closing the connection');
          slot.frame = null;
          this.socket.destroy();
        }
        if (counted && quotas) {
          // encoding is counted, as Kafka counts its network thread's time, without throttling this answer again
          const encodeMs = performance.now() - encodeStarted;
          if (exemptAnswer) quotas.exemptRequestTime(encodeMs);
          else quotas.requestTime(client, encodeMs, false);
        }
        this.writeReady();
      });
  }

  /**
   * A raw SASL message after Kafka's SaslHandshake v0: answered with a raw
   * frame (size, message); a failure closes the connection without an answer (Kafka's).
   */
  private onRawToken(session: SaslServerSession, payload: Buffer, reservedBytes: number): void {
    const slot: Slot = { frame: undefined };
    this.slots.push(slot);
    this.updateFlow();
    session
      .authenticate(payload)
      .then(
        (answer): Buffer[] => {
          const size = Buffer.alloc(4);
          size.writeInt32BE(answer.length);
          return [size, answer];
        },
        (): null => {
          this.limits.closed.unauthenticated++;
          this.warnClose({
            remote: this.socket.remoteAddress,
            reason: `SASL authentication failed: ${session.failure}`,
          });
          return null;
        },
      )
      .then((frame) => {
        this.limits.pool.release(reservedBytes);
        slot.frame = frame;
        this.writeReady();
      });
  }

  /**
   * True while a failed SASL authentication waits out connection.failed.authentication.delay.ms
   * (started here the first time): nothing more is written or read until then, and then
   * the failure's answer goes out and the connection closes, as Kafka's Selector does. The
   * waiting connection keeps its place under max.connections, which bounds how many wait.
   */
  private holdingFailure(): boolean {
    if (!this.sasl?.mustClose || this.sasl.closeUnanswered || this.failureDelay === 'over') return false;
    const delayMs = this.limits.failedAuthenticationDelayMs;
    if (delayMs <= 0) {
      this.failureDelay = 'over';
      return false;
    }
    if (this.failureDelay === undefined) {
      this.failureDelay = setTimeout(() => {
        this.failureDelay = 'over';
        this.writeReady();
      }, delayMs);
      this.updateFlow();
    }
    return true;
  }

  /** Writes every answered response at the head of the queue, in order. */
  private writeReady(): void {
    if (this.holdingFailure()) return;
    while (this.slots.length > 0 && (this.slots[0] as Slot).frame !== undefined) {
      const { frame } = this.slots.shift() as Slot;
      if (!frame || this.closed) continue;
      this.lastActivityAt = performance.now();
      this.corkForTick();
      for (const chunk of frame) this.socket.write(chunk);
    }
    if (this.sasl?.mustClose && this.slots.length === 0 && !this.closed) {
      // a failed handshake or authentication: its answer is written, then the connection ends (Kafka's)
      this.reader.stop();
      this.socket.end();
      this.socket.destroySoon();
    }
    this.updateFlow();
    if (this.slots.length === 0) this.idle?.();
  }

  /**
   * Who sent a request, as handlers see it. One object per connection (a new
   * one when the client id or the principal changes) rather than an object and
   * two closures per request: handlers only read it, and a pipelined client's
   * thousands of requests a second otherwise feed the young generation.
   */
  private clientInfo(clientId: string): ClientInfo {
    const last = this.client;
    if (last && last.clientId === clientId && last.principal === this.principal) return last;
    const client: ClientInfo = {
      clientId,
      clientHost: this.socket.remoteAddress ?? '',
      principal: this.principal,
      connectionId: this.id,
      onClose: (listener) => this.onClose(listener),
      close: () => this.close(),
      mute: (ms) => this.muteFor(ms),
      ...(this.sasl ? { sasl: this.sasl } : {}),
    };
    this.client = client;
    return client;
  }

  /**
   * Responses answered in the same tick (a pipelined client's produce
   * acknowledgements, a fetch's header and its referenced batches) leave in
   * one writev: the socket stays corked until the tick's promise callbacks
   * have run, instead of one write system call per response.
   */
  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  /**
   * A client over its quota (Kafka's KIP-219): its response carries
   * throttle_time_ms and goes out at once, and the broker reads nothing more
   * from the connection for that long. The client is not disconnected; a
   * later throttle extends a shorter one (only one timer per connection).
   */
  private muteFor(ms: number): void {
    if (ms <= 0 || this.closed) return;
    const until = performance.now() + ms;
    if (this.muteTimer && until <= this.mutedUntil) return;
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.mutedUntil = until;
    this.muteTimer = setTimeout(() => {
      this.muteTimer = undefined;
      this.updateFlow();
    }, ms);
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.closed) return;
    const busy =
      this.muteTimer !== undefined ||
      (this.failureDelay !== undefined && this.failureDelay !== 'over') ||
      this.slots.length >= connectionInFlightMax ||
      this.socket.writableNeedDrain ||
      this.reader.blocked;
    if (busy && !this.socket.isPaused()) this.socket.pause();
    else if (!busy && this.socket.isPaused()) this.socket.resume();
  }
}
