/**
 * A bare native-protocol connection for broker tests: sends framed requests
 * and matches responses by correlation id, and can write arbitrary bytes.
 * It checks the broker, so it is written from the protocol spec, not from the
 * client library.
 */
import net from 'node:net';
import { expect } from 'vitest';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { decodeResponse, encodeRequest, FrameReceiver } from '../../src/protocol/native/frame.js';
import type { DecodedRecord } from '../../src/wire/record.js';
import { decodeRecords } from '../../src/wire/record-batch-decoder.js';

/** Fetches one read of a partition may take before it must have reached the high watermark. */
const fetchesMax = 10_000;

export class RawClient {
  private readonly pending = new Map<number, (body: unknown) => void>();
  private nextId = 1;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    private readonly clientId = 'raw-test',
  ) {
    const reader = new FrameReceiver(
      256 * 1024 * 1024,
      (payload) => {
        const { correlationId, body } = decodeResponse(payload);
        this.pending.get(correlationId)?.(body);
        this.pending.delete(correlationId);
      },
      () => socket.destroy(),
    );
    socket.on('data', (chunk) => reader.push(chunk));
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static connect(port: number, clientId?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket, clientId)));
      socket.once('error', reject);
    });
  }

  /** Sends one request; resolves with the response body (rejects after timeoutMs). */
  call<T = Record<string, unknown>>(apiKey: number, body: unknown, timeoutMs = 10_000, apiVersion = 0): Promise<T> {
    const correlationId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to api ${apiKey} in ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(correlationId, (b) => {
        clearTimeout(timer);
        resolve(b as T);
      });
      this.socket.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.clientId }, body));
    });
  }

  /** Sends a request that gets no response (produce with acks 0). */
  send(apiKey: number, body: unknown): void {
    this.socket.write(
      encodeRequest({ apiKey, apiVersion: 0, correlationId: this.nextId++, clientId: this.clientId }, body),
    );
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

interface FetchBody {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  topics: any[];
}

/**
 * One bare native fetch of a partition from `offset` (up to 1 MiB): the
 * records it returns, decoded, and the high watermark. The fetch must succeed.
 */
export async function fetchRecords(
  raw: RawClient,
  topic: string,
  partition: number,
  offset: number,
): Promise<{ records: DecodedRecord[]; highWatermark: number }> {
  const r = await raw.call<FetchBody>(ApiKey.Fetch, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ name: topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
  });
  const p = r.topics[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return { records: decodeRecords(p.records ?? Buffer.alloc(0)), highWatermark: Number(p.highWatermark) };
}

/**
 * Every record value of a partition by offset, read with bare native fetches
 * (not the client's consumer) from offset 0 up to the high watermark, which
 * it gives too. Every fetch must succeed, and the read must end at the high
 * watermark.
 */
export async function readPartitionValues(
  raw: RawClient,
  topic: string,
  partition: number,
): Promise<{ values: Map<number, string>; highWatermark: number }> {
  const values = new Map<number, string>();
  let offset = 0;
  for (let fetches = 0; fetches < fetchesMax; fetches++) {
    const { records, highWatermark } = await fetchRecords(raw, topic, partition, offset);
    if (records.length === 0) {
      expect(offset).toBe(highWatermark);
      return { values, highWatermark };
    }
    for (const rec of records) {
      if (rec.offset < offset) continue;
      values.set(rec.offset, rec.value?.toString() ?? '');
      offset = rec.offset + 1;
    }
  }
  throw new Error(`${topic}-${partition} was not read to its end in ${fetchesMax} fetches`);
}
