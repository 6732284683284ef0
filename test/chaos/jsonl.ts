/**
 * JSON lines to and from files, streamed: a writer that appends (and waits
 * when the file stream's buffer is full, so a fast producer cannot hold
 * unbounded lines in memory) and a reader that yields one parsed line at a
 * time (the checker never holds a whole log file).
 */
import fs from 'node:fs';
import readline from 'node:readline';

export class JsonlWriter {
  private readonly stream: fs.WriteStream;
  private drained: Promise<void> | null = null;

  constructor(readonly file: string) {
    this.stream = fs.createWriteStream(file, { flags: 'a' });
  }

  /** Appends one line; resolves at once unless the stream's buffer is full (then once it drains). */
  write(value: unknown): Promise<void> {
    const ok = this.stream.write(`${JSON.stringify(value)}\n`);
    if (ok) return Promise.resolve();
    this.drained ??= new Promise<void>((resolve) =>
      this.stream.once('drain', () => {
        this.drained = null;
        resolve();
      }),
    );
    return this.drained;
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}

/** The parsed lines of a JSON-lines file, one at a time (none when the file does not exist); a torn last line is skipped. */
export async function* readJsonl<T>(file: string): AsyncGenerator<T> {
  if (!fs.existsSync(file)) return;
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as T;
    } catch {
      // a process killed mid-line leaves a torn last line: it was never complete
    }
  }
}
