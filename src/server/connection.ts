/**
 * One client connection of either listener (the codec says which protocol):
 * frames in, requests dispatched concurrently,
 * responses written strictly in request order (Kafka's rule). Reading pauses
 * while too many requests are in flight or the socket's send buffer is full.
 * An oversized or undecodable frame closes the connection; a bad request body
 * gets an error response; nothing a client sends can crash the broker.
 */
import type net from 'node:net';
import type { Handler, HandlerContext } from '../handlers/context.js';
import { toWireError, WireError } from '../protocol/error-codes.js';
import { FrameReader } from '../protocol/native/frame.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { connectionCloseListenersMax, connectionInFlightMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import type { ServerCodec } from './server-codec.js';

interface Slot {
  /** The encoded response (chunks), null for none (acks 0); undefined while pending. */
  frame: Buffer[] | null | undefined;
}

let nextConnectionId = 1;

export class Connection<R> {
  readonly id = nextConnectionId++;
  private readonly slots: Slot[] = [];
  private readonly closeListeners = new Set<() => void>();
  private readonly reader: FrameReader;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly codec: ServerCodec<R>,
    private readonly handlers: ReadonlyMap<number, Handler>,
    private readonly ctx: HandlerContext,
    maxFrameBytes: number,
    private readonly log: Logger,
  ) {
    this.reader = new FrameReader(
      maxFrameBytes,
      (payload) => this.onFrame(payload),
      (claimed) => this.fail(`frame of ${claimed} bytes exceeds socket.request.max.bytes (${maxFrameBytes})`),
    );
    socket.on('data', (chunk) => this.reader.push(chunk));
    socket.on('drain', () => this.updateFlow());
    socket.on('error', (err) => this.log.debug({ err }, 'connection error'));
    socket.on('close', () => {
      this.closed = true;
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

  private fail(reason: string): void {
    this.log.warn({ remote: this.socket.remoteAddress, reason }, 'closing connection');
    this.socket.destroy();
  }

  private onFrame(payload: Buffer): void {
    let request: R;
    try {
      request = this.codec.decode(payload);
    } catch (err) {
      // without a decodable header no response can be matched: close
      this.fail((err as Error).message);
      return;
    }
    const api = this.codec.apiName(request);
    const slot: Slot = { frame: undefined };
    this.slots.push(slot);
    this.updateFlow();
    let work: Promise<object | undefined>;
    try {
      const route = this.codec.route(request);
      const handler = 'reply' in route ? undefined : this.handlers.get(route.apiKey);
      if ('reply' in route) work = Promise.resolve(route.reply);
      else if (!handler) work = Promise.resolve({ errorCode: WireError.UNSUPPORTED_VERSION });
      else {
        work = handler.handle(route.body, this.ctx, {
          clientId: this.codec.clientId(request),
          clientHost: this.socket.remoteAddress ?? '',
          connectionId: this.id,
          onClose: (listener) => this.onClose(listener),
        });
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
        const wire = toWireError(err);
        if (wire.errorCode === WireError.UNKNOWN_SERVER_ERROR) {
          this.log.error({ err, api }, 'request failed');
        }
        return wire;
      })
      .then((response) => {
        try {
          slot.frame = this.codec.encode(request, response);
        } catch (err) {
          // a response that cannot be encoded is a bug: the client cannot be answered in order any more
          this.log.error({ err, api }, 'response could not be encoded; closing the connection');
          slot.frame = null;
          this.socket.destroy();
        }
        this.writeReady();
      });
  }

  /** Writes every answered response at the head of the queue, in order. */
  private writeReady(): void {
    while (this.slots.length > 0 && (this.slots[0] as Slot).frame !== undefined) {
      const { frame } = this.slots.shift() as Slot;
      if (!frame || this.closed) continue;
      if (frame.length === 1) this.socket.write(frame[0] as Buffer);
      else {
        this.socket.cork();
        for (const chunk of frame) this.socket.write(chunk);
        this.socket.uncork();
      }
    }
    this.updateFlow();
    if (this.slots.length === 0) this.idle?.();
  }

  private updateFlow(): void {
    if (this.closed) return;
    const busy = this.slots.length >= connectionInFlightMax || this.socket.writableNeedDrain;
    if (busy && !this.socket.isPaused()) this.socket.pause();
    else if (!busy && this.socket.isPaused()) this.socket.resume();
  }
}
