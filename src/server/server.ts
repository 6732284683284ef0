/** A TCP listener: the native protocol or the Kafka protocol, by its codec, over the same handlers. */
import net from 'node:net';
import type { Handler, HandlerContext } from '../handlers/context.js';
import { shutdownDrainMsMax } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { Connection } from './connection.js';
import type { ServerCodec } from './server-codec.js';

export class ProtocolServer<R> {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection<R>>();

  constructor(
    codec: ServerCodec<R>,
    handlers: ReadonlyMap<number, Handler>,
    ctx: HandlerContext,
    maxFrameBytes: number,
    private readonly log: Logger,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => {
      const connection = new Connection(socket, codec, handlers, ctx, maxFrameBytes, log);
      this.connections.add(connection);
      socket.on('close', () => this.connections.delete(connection));
    });
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = Promise.all([...this.connections].map((c) => c.drained()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, shutdownDrainMsMax)))]);
    clearTimeout(timer);
    for (const c of this.connections) c.close();
    await closed;
    this.log.debug('listener closed');
  }
}
