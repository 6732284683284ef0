/**
 * Output for the CLI: lines to stdout that respect backpressure (a consumer
 * piped into a slow reader keeps bounded memory), plain tables, and the
 * CONTRACT's JSON shape for one record.
 */

export interface RecordJson {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Bytes handed to stdout and not yet flushed before the writer waits for 'drain'. */
const stdoutPendingBytesMax = 1024 * 1024;

let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // A reader that went away (`| head`) is not an error of ours: stop writing quietly.
  if (err.code === 'EPIPE') {
    stdoutClosed = true;
    return;
  }
  throw err;
});

/** True once stdout's reader has gone away (EPIPE). */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Writes `text` and a newline to stdout; waits for 'drain' when too much is queued. */
export async function writeLine(text: string): Promise<void> {
  if (stdoutClosed) return;
  const ok = process.stdout.write(`${text}\n`);
  if (ok || process.stdout.writableLength < stdoutPendingBytesMax) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('close', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.on('drain', done);
    process.stdout.on('close', done);
    process.stdout.on('error', done);
  });
}

/** Resolves when everything written to stdout has been handed to the OS. */
export function flushStdout(): Promise<void> {
  if (stdoutClosed || process.stdout.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

/** A left-aligned text table with a header row; columns two spaces apart. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function text(b: Buffer | string | null | undefined): string | null {
  if (b === null || b === undefined) return null;
  return typeof b === 'string' ? b : b.toString('utf8');
}

export interface CliMessage {
  offset: number | bigint | string;
  timestamp: number | bigint | string;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, Buffer | string | null | undefined> | { key: string; value: Buffer | string | null }[];
}

function headersJson(headers: CliMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (Array.isArray(headers)) {
    for (const h of headers) out[h.key] = text(h.value) ?? '';
  } else {
    for (const [k, v] of Object.entries(headers)) out[k] = text(v) ?? '';
  }
  return out;
}

/** The CONTRACT's record object: key/value as UTF-8 strings, key null when absent. */
export function recordJson(topic: string, partition: number, message: CliMessage): RecordJson {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: text(message.key),
    value: text(message.value),
    headers: headersJson(message.headers),
  };
}

/** The CONTRACT's queue message object: a record's fields with the queue and the delivery count. */
export interface QueueMessageJson {
  queue: string;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  deliveryCount: number;
}

/** A received or browsed queue message as one JSON object (key/value as UTF-8 strings, key null when absent). */
export function queueMessageJson(queue: string, message: CliMessage & { deliveryCount?: number }): QueueMessageJson {
  return {
    queue,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: text(message.key),
    value: text(message.value),
    headers: headersJson(message.headers),
    deliveryCount: message.deliveryCount ?? 0,
  };
}
