/**
 * What every chaos worker process shares: its options arrive as one JSON
 * argument, it reports to the runner with JSON lines on stdout ("ready",
 * "progress", "error", "done"), takes commands as JSON lines on stdin, and
 * logs what it saw to its own JSON-lines file.
 */
import readline from 'node:readline';

export function workerOptions<T>(): T {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: worker.ts OPTIONS_JSON');
  return JSON.parse(arg) as T;
}

/** One status line for the runner. */
export function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ t: Date.now(), ...value })}\n`);
}

/** Calls `handle` with each JSON command read from stdin. */
export function onCommand(handle: (command: Record<string, unknown>) => void): void {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    try {
      handle(JSON.parse(line) as Record<string, unknown>);
    } catch (err) {
      report({ ev: 'error', error: `bad command ${line}: ${String(err)}` });
    }
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A one-line description of an error (its code when it has one). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code === undefined ? '' : ` ${String(code)}`}: ${err.message}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}

/**
 * Paces a loop at `perSecond` operations (0: as fast as it goes): resolves
 * when the next operation is due. Bounded catch-up: after a stall it does
 * not burst more than a second's worth.
 */
export function pacer(perSecond: number): () => Promise<void> {
  let next = Date.now();
  return async () => {
    if (perSecond <= 0) return;
    const now = Date.now();
    next = Math.max(next + 1000 / perSecond, now - 1000);
    if (next > now) await sleep(next - now);
  };
}
