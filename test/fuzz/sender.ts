/**
 * Sends a listener's generated frames over many connections at bounded
 * concurrency: short ones (one frame, then wait for the answer or a close)
 * and long ones (up to longFramesMax frames written back to back, pipelined).
 * Which connection carries which frames follows from the seed alone, so a
 * run replays. Every wait is bounded; every socket is destroyed at the end.
 */
import net from 'node:net';
import { decodeResponse } from '../../src/protocol/native/frame.js';
import type { FuzzFrame, Listener } from './fuzz-frame.js';
import { mixSeed, Random } from './random.js';

/** Frames on one long connection, at most. */
export const longFramesMax = 64;
const connectTimeoutMs = 5_000;
/** How long a connection waits for its answers after its last write. */
const shortWaitMs = 500;
const longWaitMs = 2_000;
/** Response bytes one connection buffers before it gives up on parsing (a fetch can be large). */
const responseBytesMax = 8 * 1024 * 1024;
/** UNKNOWN_SERVER_ERROR (-1): what an unexpected exception in a handler becomes on the native wire. */
const unknownServerError = -1;

export interface FrameRecord {
  index: number;
  kind: string;
  detail: string;
  api: string;
  sentAtMs: number;
  /** When its answer came, or its connection ended. */
  doneAtMs: number;
  answered: boolean;
}

export interface ListenerStats {
  listener: Listener;
  framesSent: number;
  byKind: Record<string, number>;
  shortConnections: number;
  longConnections: number;
  answered: number;
  closedByBroker: number;
  timedOut: number;
  connectErrors: number;
  /** Frames the broker's own decoder refuses (they end a connection): sent last on a long one, or alone. */
  closers: number;
  /** Native frames answered UNKNOWN_SERVER_ERROR (a handler threw): their indexes. */
  unknownServerErrors: number[];
  records: FrameRecord[];
}

export function emptyStats(listener: Listener): ListenerStats {
  return {
    listener,
    framesSent: 0,
    byKind: {},
    shortConnections: 0,
    longConnections: 0,
    answered: 0,
    closedByBroker: 0,
    timedOut: 0,
    connectErrors: 0,
    closers: 0,
    unknownServerErrors: [],
    records: [],
  };
}

/** The connection plan: frames [start, start + count) on one connection, in order. */
export function* connectionPlan(
  seed: number,
  listener: Listener,
  frames: number,
): Generator<{ start: number; count: number }> {
  const random = new Random(mixSeed(seed, listener === 'native' ? 11 : 12, 0xc0ffee));
  let start = 0;
  while (start < frames) {
    const count = Math.min(frames - start, random.chance(0.75) ? 1 : random.between(2, longFramesMax));
    yield { start, count };
    start += count;
  }
}

function connect(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
  });
}

function newRecord(f: FuzzFrame): FrameRecord {
  return { index: f.index, kind: f.kind, detail: f.detail, api: f.api, sentAtMs: 0, doneAtMs: 0, answered: false };
}

function countSent(stats: ListenerStats, f: FuzzFrame): void {
  stats.framesSent++;
  const key = `${f.kind}${f.detail ? `/${f.detail.split(/[+:]/)[0]}` : ''}`;
  stats.byKind[key] = (stats.byKind[key] ?? 0) + 1;
}

/**
 * Runs one connection carrying `frames` (with their `records`); fills `stats`.
 */
async function runConnection(
  port: number,
  frames: FuzzFrame[],
  records: Map<number, FrameRecord>,
  stats: ListenerStats,
): Promise<void> {
  const socket = await connect(port);
  if (!socket) {
    stats.connectErrors++;
    return;
  }
  if (frames.length === 1) stats.shortConnections++;
  else stats.longConnections++;
  let closed = false;
  let answered = 0;
  let wake: (() => void) | undefined;
  let pending: Buffer = Buffer.alloc(0);
  const position = new Map(frames.map((f, i) => [f.index + 1, i]));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const onResponse = (payload: Buffer): void => {
    answered++;
    stats.answered++;
    let correlationId: number | undefined;
    let errorCode: unknown;
    if (stats.listener === 'kafka') correlationId = payload.length >= 4 ? payload.readInt32BE(0) : undefined;
    else {
      try {
        const r = decodeResponse(payload);
        correlationId = r.correlationId;
        errorCode = (r.body as { errorCode?: unknown } | null)?.errorCode;
      } catch {
        correlationId = undefined;
      }
    }
    const at = correlationId === undefined ? undefined : position.get(correlationId);
    const record = at === undefined ? undefined : records.get((frames[at] as FuzzFrame).index);
    if (at === undefined || !record) return;
    record.answered = true;
    record.doneAtMs = Date.now();
    if (errorCode === unknownServerError) stats.unknownServerErrors.push(record.index);
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (pending.length > responseBytesMax) {
      socket.destroy();
      return;
    }
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      onResponse(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
    wake?.();
  });
  let written = 0;
  for (const f of frames) {
    if (closed) break;
    const record = records.get(f.index) as FrameRecord;
    record.sentAtMs = Date.now();
    countSent(stats, f);
    written++;
    if (!socket.write(f.bytes)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, longWaitMs);
        socket.once('drain', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  const deadline = Date.now() + (frames.length === 1 ? shortWaitMs : longWaitMs);
  while (!closed && answered < written && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  }
  const closedByBroker = closed;
  if (closedByBroker) stats.closedByBroker++;
  else if (answered < written) stats.timedOut++;
  socket.destroy();
  const end = Date.now();
  for (const f of frames) {
    const r = records.get(f.index) as FrameRecord;
    if (!r.answered) r.doneAtMs = end;
  }
}

/**
 * The connections that carry one planned connection's frames: the broker
 * closes a connection at a frame it cannot decode, so a long connection
 * carries the decodable frames and at most one such closer, last (the close
 * then lands with requests still in flight); every other closer goes alone.
 */
export function splitClosers(frames: FuzzFrame[], decodes: (f: FuzzFrame) => boolean): FuzzFrame[][] {
  if (frames.length <= 1) return frames.length === 1 ? [frames] : [];
  const safe = frames.filter(decodes);
  const closers = frames.filter((f) => !decodes(f));
  const long = closers.length > 0 ? [...safe, closers[0] as FuzzFrame] : safe;
  return [long, ...closers.slice(1).map((f) => [f])].filter((c) => c.length > 0);
}

/**
 * Sends frames [0, frames) of `listener` (made by `generate`) to `port`, with
 * at most `concurrency` connections open; stops early when `stopped()` says so.
 */
export async function sendFrames(options: {
  listener: Listener;
  port: number;
  seed: number;
  frames: number;
  /** Send only these frame indexes, each on its own connection (a replay). */
  only?: number[] | undefined;
  concurrency: number;
  generate: (index: number) => FuzzFrame;
  /** True when the broker's decoder reads `frame` as one whole request (so the connection carries on after it). */
  decodes: (frame: FuzzFrame) => boolean;
  stopped: () => boolean;
  onProgress?: (stats: ListenerStats) => void;
}): Promise<ListenerStats> {
  const stats = emptyStats(options.listener);
  const plan = options.only
    ? options.only.map((start) => ({ start, count: 1 }))[Symbol.iterator]()
    : connectionPlan(options.seed, options.listener, options.frames);
  let lastProgress = Date.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      if (options.stopped()) return;
      const next = plan.next();
      if (next.done) return;
      const { start, count } = next.value;
      const frames = Array.from({ length: count }, (_, i) => options.generate(start + i));
      const records = new Map(frames.map((f) => [f.index, newRecord(f)]));
      for (const connection of splitClosers(frames, options.decodes)) {
        if (options.stopped()) break;
        await runConnection(options.port, connection, records, stats);
      }
      stats.closers += frames.filter((f) => !options.decodes(f)).length;
      stats.records.push(...records.values());
      if (options.onProgress && Date.now() - lastProgress > 5_000) {
        lastProgress = Date.now();
        options.onProgress(stats);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return stats;
}

/** Sends one frame alone on a fresh connection and waits (bounded) for its answer or a close. */
export async function replayFrame(port: number, frame: FuzzFrame): Promise<ListenerStats> {
  const stats = emptyStats(frame.listener);
  await runConnection(port, [frame], new Map([[frame.index, newRecord(frame)]]), stats);
  return stats;
}
