/**
 * A TLS connection's frames: the decrypted chunks of a TLS socket go into the
 * same FrameReceiver as a plaintext socket's reads (push). An in-test TLS
 * server answers with its frames cut at awkward places (inside the length
 * head, right after it, mid-payload), each piece its own write and so its own
 * TLS record and its own 'data' chunk at the client, and large frames span
 * many 16 KiB records; every answer comes back whole and in order.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../../src/client/connection.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { decodeRequest, encodeResponse, FrameReceiver } from '../../../src/protocol/native/frame.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/temp-dir.js';

let certs: TestCerts;
let cleanup: () => void = () => undefined;

beforeAll(() => {
  const dir = tempDir('sluice-tls-framing-');
  cleanup = dir.cleanup;
  certs = makeTestCerts(dir.dir);
}, 60_000);

afterAll(() => cleanup());

/** Cut points of a frame of `length` bytes: 1, 2 and 3 bytes of the head, the head, 1 byte of payload, then odd pieces. */
function pieces(frame: Buffer): Buffer[] {
  const cuts = [1, 3, 4, 5, 6, 1000, 17_000, 40_000];
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    if (cut <= from || cut >= frame.length) continue;
    out.push(frame.subarray(from, cut));
    from = cut;
  }
  out.push(frame.subarray(from));
  return out;
}

/** Writes `chunks` one at a time, each after the last has left (its own TLS record). */
async function writeApart(socket: tls.TLSSocket, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve())));
    // a turn of the event loop between records: the client reads them as separate chunks
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('Connection over TLS', () => {
  it('assembles answers whose frames are split across TLS records and chunks', async () => {
    const sizes = [0, 1, 5, 3000, 20_000, 70_000, 300_000, 1 << 20];
    const blobOf = (size: number): Buffer => {
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (i * 7 + size) & 0xff;
      return b;
    };
    const sockets: tls.TLSSocket[] = [];
    const server = tls.createServer(
      { key: fs.readFileSync(certs.broker.key), cert: fs.readFileSync(certs.broker.cert) },
      (socket) => {
        sockets.push(socket);
        socket.on('error', () => undefined);
        let answered = Promise.resolve();
        const receiver = new FrameReceiver(
          1 << 22,
          (payload) => {
            const { header, body } = decodeRequest(payload);
            const size = (body as { size: number }).size;
            const frame = encodeResponse(header.correlationId, { errorCode: 0, size, blob: blobOf(size) });
            answered = answered.then(() => writeApart(socket, pieces(frame)));
          },
          () => socket.destroy(),
        );
        socket.on('data', (chunk: Buffer) => receiver.push(chunk));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const c = new Connection({
      host: '127.0.0.1',
      port,
      clientId: 'tls-framing',
      tls: { ca: fs.readFileSync(certs.ca) },
      maxFrameBytes: 1 << 22,
    });
    try {
      await c.connect();
      // all in flight at once (answers back to back), then one at a time
      const together = await Promise.all(sizes.map((size) => c.send(ApiKey.Metadata, { size })));
      const apart: unknown[] = [];
      for (const size of sizes) apart.push(await c.send(ApiKey.Metadata, { size }));
      for (const answers of [together, apart]) {
        answers.forEach((answer, i) => {
          const a = answer as { errorCode: number; size: number; blob: Buffer };
          expect(a.size).toBe(sizes[i]);
          expect(Buffer.from(a.blob).equals(blobOf(sizes[i] as number))).toBe(true);
        });
      }
    } finally {
      c.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
