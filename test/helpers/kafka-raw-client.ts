/**
 * A bare Kafka-protocol connection for broker tests: sends a request body
 * (written by hand or by kafkajs's encoders, see kafkajs-protocol.ts) with a
 * v1 request header and resolves with the response body after the
 * correlation id (non-flexible response header). Written from the protocol
 * spec, not from Sluice's codec.
 */
import net from 'node:net';

export class KafkaRawClient {
  private readonly pending = new Map<number, (body: Buffer) => void>();
  private buffered = Buffer.alloc(0);
  private nextId = 1;

  private constructor(
    readonly socket: net.Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (chunk) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        const id = frame.readInt32BE(0);
        this.pending.get(id)?.(Buffer.from(frame.subarray(4)));
        this.pending.delete(id);
      }
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, clientId = 'raw-kafka'): Promise<KafkaRawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new KafkaRawClient(socket, clientId)));
      socket.once('error', reject);
    });
  }

  /** Sends one request; resolves with its response body (rejects after timeoutMs). */
  call(request: { apiKey: number; apiVersion: number; body: Buffer }, timeoutMs = 10_000): Promise<Buffer> {
    const correlationId = this.nextId++;
    const clientId = Buffer.from(this.clientId);
    const header = Buffer.alloc(10);
    header.writeInt16BE(request.apiKey, 0);
    header.writeInt16BE(request.apiVersion, 2);
    header.writeInt32BE(correlationId, 4);
    header.writeInt16BE(clientId.length, 8);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + clientId.length + request.body.length, 0);
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no response to api ${request.apiKey} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.set(correlationId, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
      this.socket.write(Buffer.concat([size, header, clientId, request.body]));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
