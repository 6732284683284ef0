/**
 * One client connection: frames in, requests dispatched concurrently,
 * responses written strictly in request order (Kafka's rule). Reading pauses
 * while too many requests are in flight or the socket's send buffer is full.
 * An oversized or undecodable frame closes the connection; a bad request body
 * gets an error response; nothing a client sends can crash the broker.
 */
import type net from 'node:net';
import type { Handler, HandlerContext } from '../handlers/context.js';
import { toWireError, WireError } from '../protocol/error-codes.js';
import { apiName } from '../protocol/native/api-keys.js';
import { decodeRequest, encodeResponse, FrameReader } from '../protocol/native/frame.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { connectionCloseListenersMax, connectionInFlightMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';

interface Slot {
  /** The encoded response, null for none (acks 0); undefined while pending. */
  frame: Buffer | null | undefined;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  private readonly slots: Slot[] = [];
  private readonly closeListeners = new Set<() => void>();
  private readonly reader: FrameReader;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
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
    let request: ReturnType<typeof decodeRequest>;
    try {
      request = decodeRequest(payload);
    } catch (err) {
      // without a correlation id no response can be matched: close
      this.fail((err as Error).message);
      return;
    }
    const { header, body } = request;
    const slot: Slot = { frame: undefined };
    this.slots.push(slot);
    this.updateFlow();
    const handler = this.handlers.get(header.apiKey);
    let work: Promise<object | undefined>;
    if (!handler || header.apiVersion < handler.minVersion || header.apiVersion > handler.maxVersion) {
      work = Promise.resolve({
        errorCode: WireError.UNSUPPORTED_VERSION,
        errorMessage: `${apiName(header.apiKey)} version ${header.apiVersion} is not supported`,
      });
    } else {
      work = handler.handle(body, this.ctx, {
        clientId: header.clientId,
        clientHost: this.socket.remoteAddress ?? '',
        connectionId: this.id,
        onClose: (listener) => this.onClose(listener),
      });
    }
    const metrics = this.ctx.metrics;
    if (metrics) {
      const started = process.hrtime.bigint();
      const api = apiName(header.apiKey);
      work = work.finally(() => metrics.request(api, Number(process.hrtime.bigint() - started) / 1e9));
    }
    work
      .catch((err: unknown) => {
        const wire = toWireError(err);
        if (wire.errorCode === WireError.UNKNOWN_SERVER_ERROR) {
          this.log.error({ err, api: apiName(header.apiKey) }, 'request failed');
        }
        return wire;
      })
      .then((response) => {
        slot.frame = response === undefined ? null : encodeResponse(header.correlationId, response);
        this.writeReady();
      });
  }

  /** Writes every answered response at the head of the queue, in order. */
  private writeReady(): void {
    while (this.slots.length > 0 && (this.slots[0] as Slot).frame !== undefined) {
      const { frame } = this.slots.shift() as Slot;
      if (frame && !this.closed) this.socket.write(frame);
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
