/**
 * What any Node broker could at most do here:
 * - TCP into a file: 104-byte frames (4-byte length + 100-byte record),
 *   prebuilt into 64 KiB writes, sent over loopback to a child Node process
 *   (tcp-sink.ts) that appends everything to a file; timed from the first
 *   write until the child has written the last byte and answered.
 * - fs append: 100-byte records copied into 1 MiB buffers and appended with
 *   fs.writeSync.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Child, removeDir, spawnChild, stopChild, tempDir, waitFor } from './procs.js';

const sinkScript = fileURLToPath(new URL('./tcp-sink.ts', import.meta.url));
export const frameBytes = 104;
export const recordBytes = 100;
const writeBytes = 64 * 1024;

export interface CeilingRun {
  records: number;
  bytes: number;
  seconds: number;
}

export class TcpSink {
  private constructor(
    private readonly child: Child,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TcpSink> {
    const dir = tempDir('sluice-bench-sink-');
    const child = spawnChild(
      'tcp sink',
      process.execPath,
      ['--import', 'tsx', sinkScript, path.join(dir, 'sink.bin')],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
      },
    );
    let port = 0;
    child.onLine((line) => {
      try {
        const m = JSON.parse(line) as { port?: number };
        if (typeof m.port === 'number') port = m.port;
      } catch {
        // not ours
      }
    });
    await waitFor('tcp sink', () => port !== 0, 20_000, child);
    return new TcpSink(child, port, dir);
  }

  /** Sends `totalBytes` (rounded up to whole 64 KiB writes of whole frames) and waits for the sink's answer. */
  async run(totalBytes: number): Promise<CeilingRun> {
    const framesPerWrite = Math.floor(writeBytes / frameBytes);
    const chunk = Buffer.alloc(framesPerWrite * frameBytes);
    for (let i = 0; i < framesPerWrite; i++) {
      chunk.writeUInt32BE(recordBytes, i * frameBytes);
      chunk.fill(0x61 + (i % 26), i * frameBytes + 4, (i + 1) * frameBytes);
    }
    const writes = Math.ceil(totalBytes / chunk.length);
    const socket = net.connect(this.port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let reply = '';
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
    });
    const closed = new Promise<void>((resolve, reject) => {
      socket.once('close', () => resolve());
      socket.once('error', reject);
    });
    const start = performance.now();
    for (let i = 0; i < writes; i++) {
      if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once('drain', resolve));
    }
    socket.end();
    await closed;
    const seconds = (performance.now() - start) / 1000;
    const { bytes } = JSON.parse(reply) as { bytes: number };
    if (bytes !== writes * chunk.length)
      throw new Error(`tcp sink received ${bytes} bytes of ${writes * chunk.length}`);
    return { records: writes * framesPerWrite, bytes, seconds };
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    removeDir(this.dir);
  }
}

/** Appends `records` 100-byte records, copied one by one into 1 MiB buffers, to a fresh file. */
export function fsAppendRun(records: number): CeilingRun {
  const dir = tempDir('sluice-bench-fs-');
  try {
    const record = Buffer.alloc(recordBytes, 0x62);
    const batch = Buffer.allocUnsafe(1024 * 1024);
    const perBatch = Math.floor(batch.length / recordBytes);
    const fd = fs.openSync(path.join(dir, 'append.bin'), 'a');
    let written = 0;
    const start = performance.now();
    while (written < records) {
      const n = Math.min(perBatch, records - written);
      for (let i = 0; i < n; i++) record.copy(batch, i * recordBytes);
      const len = n * recordBytes;
      let off = 0;
      while (off < len) off += fs.writeSync(fd, batch, off, len - off);
      written += n;
    }
    const seconds = (performance.now() - start) / 1000;
    fs.closeSync(fd);
    return { records, bytes: records * recordBytes, seconds };
  } finally {
    removeDir(dir);
  }
}
