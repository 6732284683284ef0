/**
 * A scripted peer that speaks the native protocol on a real loopback socket,
 * for unit tests of client and replication logic: each request's answer comes
 * from `handler` (sync or async; undefined sends none), written in request
 * order per connection as a real broker does.
 */
import net from 'node:net';
import { decodeRequest, encodeResponse, FrameReceiver } from '../../src/protocol/native/frame.js';

export interface AnyBody {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

/** `socket`: the connection the request came on (a test may destroy it instead of answering). */
export type FakeHandler = (
  apiKey: number,
  body: AnyBody,
  port: number,
  socket: net.Socket,
) => unknown | Promise<unknown>;

export interface FakeNativeBroker {
  port: number;
  close(): Promise<void>;
}

export async function fakeNativeBroker(handler: FakeHandler): Promise<FakeNativeBroker> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let answered = Promise.resolve();
    const reader = new FrameReceiver(
      // the broker's default socket.request.max.bytes: a request of tens of thousands of partitions is megabytes
      100 * 1024 * 1024,
      (payload) => {
        const { header, body } = decodeRequest(payload);
        answered = answered.then(async () => {
          const answer = await handler(header.apiKey, body as AnyBody, port, socket);
          if (answer !== undefined && !socket.destroyed) socket.write(encodeResponse(header.correlationId, answer));
        });
      },
      () => socket.destroy(),
    );
    socket.on('data', (chunk) => reader.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
