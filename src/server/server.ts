/**
 * A TCP listener: the native protocol or the Kafka protocol, by its codec, over
 * the same handlers. Both listeners of a broker share one ListenerLimits: one
 * request memory pool and one count of connections (max.connections,
 * max.connections.per.ip). A periodic sweep enforces frame deadlines and the idle timeout.
 *
 * On an SSL or SASL_SSL listener every accepted socket (counted against the
 * connection quotas first) is handed to a non-listening tls.Server, which
 * does the handshake within socket.request.read.timeout.ms. A failed handshake
 * (a plaintext client, a refused client certificate, a timeout) closes only
 * that socket, with a rate-limited warning. On an SSL listener a trusted
 * client certificate's subject is the connection's principal.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { BrokerTls } from '../config/tls-config.js';
import type { HandlerContext, HandlerTable } from '../handlers/context.js';
import { certificatePrincipal } from '../security/certificate-principal.js';
import { anonymousPrincipal, type Principal } from '../security/principal.js';
import { type SecurityProtocol, usesTls } from '../security/security-protocol.js';
import {
  connectionSweepMsMax,
  connectionSweepMsMin,
  connectionWarningsPerWindow,
  connectionWarningWindowMs,
  shutdownDrainMsMax,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';
import {
  Connection,
  type ConnectionLimits,
  type ConnectionSasl,
  type ReadingSocket,
  type SocketOnRead,
} from './connection.js';
import type { ConnectionQuotas } from './connection-quotas.js';
import type { ServerCodec } from './server-codec.js';

export interface ListenerLimits extends ConnectionLimits {
  quotas: ConnectionQuotas;
}

/** A listener's security protocol and, when it uses TLS, the broker's key material. */
export interface ListenerSecurityOptions {
  protocol: SecurityProtocol;
  tls?: BrokerTls;
}

export class ProtocolServer<R> {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection<R>>();
  private readonly sweep: NodeJS.Timeout;
  private readonly refused: RateLimitedLog;
  private readonly closing: RateLimitedLog;
  private readonly handshakes: RateLimitedLog;
  /** Admitted sockets whose TLS handshake is under way (at most max.connections). */
  private readonly handshaking = new Map<string, net.Socket>();

  constructor(
    codec: ServerCodec<R>,
    handlers: HandlerTable,
    ctx: HandlerContext,
    limits: ListenerLimits,
    private readonly log: Logger,
    security: ListenerSecurityOptions = { protocol: 'PLAINTEXT' },
    /** SASL on a SASL_PLAINTEXT or SASL_SSL listener: every connection must authenticate first. */
    sasl?: ConnectionSasl,
  ) {
    const window = { linesPerWindow: connectionWarningsPerWindow, windowMs: connectionWarningWindowMs };
    this.refused = new RateLimitedLog(log, { ...window, summary: 'connection refused (more, not logged one by one)' });
    this.closing = new RateLimitedLog(log, { ...window, summary: 'closing connection (more, not logged one by one)' });
    this.handshakes = new RateLimitedLog(log, {
      ...window,
      summary: 'TLS handshake failed (more, not logged one by one)',
    });
    const open = (source: net.Socket | ReadingSocket, principal: Principal): net.Socket => {
      let socket = typeof source === 'function' ? undefined : source;
      const connection = new Connection(
        typeof source === 'function' ? (onread) => (socket = source(onread)) : source,
        codec,
        handlers,
        ctx,
        limits,
        log,
        (fields) => this.closing.warn(fields, 'closing connection'),
        sasl,
      );
      connection.principal = principal;
      this.connections.add(connection);
      const opened = socket as net.Socket;
      opened.on('close', () => this.connections.delete(connection));
      return opened;
    };
    const tlsServer = security.tls && usesTls(security.protocol) ? this.tlsServer(security, limits, open) : undefined;
    // plaintext: accepted paused, its handle then taken over by a socket that reads into the connection's memory
    this.server = net.createServer({ noDelay: true, pauseOnConnect: tlsServer === undefined }, (socket) => {
      const ip = socket.remoteAddress ?? '';
      const admitted = limits.quotas.tryAcquire(ip);
      if (!admitted.ok) {
        socket.on('error', () => undefined);
        socket.destroy();
        this.refused.warn({ remote: ip, reason: admitted.reason }, 'connection refused');
        return;
      }
      if (tlsServer) {
        socket.on('close', () => limits.quotas.release(ip));
        // errors of the raw socket surface on the TLS socket wrapping it
        socket.on('error', () => undefined);
        const key = peerKey(socket);
        this.handshaking.set(key, socket);
        socket.on('close', () => {
          if (this.handshaking.get(key) === socket) this.handshaking.delete(key);
        });
        tlsServer.emit('connection', socket);
      } else {
        const opened = open((onread) => adoptReading(socket, onread), anonymousPrincipal);
        opened.on('close', () => limits.quotas.release(ip));
      }
    });
    // a quarter of the shortest timeout: a deadline is enforced at most 25% late
    const sweepMs = Math.min(
      connectionSweepMsMax,
      Math.max(connectionSweepMsMin, Math.floor(Math.min(limits.frameReadTimeoutMs, limits.idleMs) / 4)),
    );
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.connections) c.checkTimeouts(now);
    }, sweepMs);
    this.sweep.unref();
  }

  /**
   * The TLS side of the listener: not listening itself, it is handed each
   * admitted socket. Certificates are checked here rather than by OpenSSL's
   * rejectUnauthorized alone, so that every refusal is logged with its reason.
   */
  private tlsServer(
    security: ListenerSecurityOptions,
    limits: ListenerLimits,
    open: (socket: net.Socket, principal: Principal) => net.Socket,
  ): tls.Server {
    const material = security.tls as BrokerTls;
    const { clientAuth } = material;
    const server = tls.createServer({
      key: material.key,
      cert: material.cert,
      ...(material.passphrase === undefined ? {} : { passphrase: material.passphrase }),
      ...(material.ca === undefined ? {} : { ca: material.ca }),
      requestCert: clientAuth !== 'none',
      // required: OpenSSL refuses a missing certificate with an alert the client can name
      rejectUnauthorized: clientAuth === 'required',
      handshakeTimeout: limits.frameReadTimeoutMs,
    });
    const refuse = (socket: tls.TLSSocket, reason: string): void => {
      limits.closed.tls_handshake++;
      this.handshakes.warn(
        { remote: socket.remoteAddress, protocol: security.protocol, reason },
        'TLS handshake failed',
      );
      socket.destroy();
    };
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      // a certificate refused after the handshake carries its reason on the socket
      const reason = socket.authorizationError
        ? `client certificate refused: ${String(socket.authorizationError)}`
        : tlsFailureReason(err);
      refuse(socket, reason);
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      // the TLS socket took over the raw one (same connection; its quota is released when it closes)
      this.handshaking.delete(peerKey(socket));
      const certificate = clientAuth === 'none' ? undefined : socket.getPeerX509Certificate();
      if (certificate && !socket.authorized) {
        refuse(socket, `client certificate refused: ${String(socket.authorizationError)}`);
        return;
      }
      socket.setNoDelay(true);
      // with SASL the principal is the authenticated user's; a certificate names it on SSL only (Kafka)
      const principal =
        certificate && security.protocol === 'SSL' ? certificatePrincipal(certificate.subject) : anonymousPrincipal;
      this.log.debug({ remote: socket.remoteAddress, protocol: security.protocol, principal }, 'TLS connection');
      open(socket, principal);
    });
    return server;
  }

  /** Open connections of this listener. */
  get connectionCount(): number {
    return this.connections.size;
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as net.AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting, lets in-flight requests finish (bounded), then closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.sweep);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const raw of this.handshaking.values()) raw.destroy();
    const drained = Promise.all([...this.connections].map((c) => c.drained()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, shutdownDrainMsMax)))]);
    clearTimeout(timer);
    for (const c of this.connections) c.close();
    await closed;
    this.refused.flush();
    this.closing.flush();
    this.handshakes.flush();
    this.log.debug('listener closed');
  }
}

/**
 * A socket around an accepted (paused) socket's handle that reads into the
 * memory `onread` gives. Node's server does not take an `onread` option; a
 * net.Socket made with `handle` does (net.js initSocketHandle registers the
 * buffer and the handle's reads go to the new socket: 'end', 'close',
 * pause/resume and writes behave as on any socket). The accepted socket,
 * without its handle, is destroyed: it no longer owns anything.
 */
function adoptReading(accepted: net.Socket, onread: SocketOnRead): net.Socket {
  const shell = accepted as net.Socket & { _handle: unknown };
  const handle = shell._handle;
  if (!handle) return accepted; // closed already: its 'close' is on its way
  shell._handle = null;
  accepted.destroy();
  const socket = new net.Socket({ handle, onread, readable: true, writable: true } as net.SocketConstructorOpts);
  return socket;
}

/** A connection's remote end: tells a listener's connections apart. */
function peerKey(socket: net.Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/** Why a TLS handshake failed, in words an operator can act on. */
function tlsFailureReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_HTTP_REQUEST':
      return 'the client did not speak TLS (a PLAINTEXT client on a TLS listener?)';
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return `no TLS handshake within socket.request.read.timeout.ms`;
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'the client sent no certificate (ssl.client.auth=required)';
    case 'ECONNRESET':
      return "the client closed the connection during the handshake (does it trust the broker's certificate?)";
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
      return `the client refused the broker's certificate (${opensslReason(err)})`;
    default:
      return `${err.code ?? 'error'}: ${opensslReason(err)}`;
  }
}

/** OpenSSL's reason out of node's message ("…:SSL routines:function:reason:file:line:…"). */
function opensslReason(err: Error): string {
  return /:SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? (err.message.split('\n')[0] as string);
}
