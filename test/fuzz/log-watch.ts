/**
 * Reads the broker's output as it comes: writes it to log files and keeps
 * every line that shows a handler failure (verdict.ts classifyLogLine).
 * Bounded: a line longer than lineBytesMax is cut, at most failuresKeptMax
 * failures are kept (all are counted).
 */
import fs from 'node:fs';
import path from 'node:path';
import { classifyLogLine, type LogFailure } from './verdict.js';

const lineBytesMax = 64 * 1024;
const failuresKeptMax = 100_000;

export class LogWatch {
  readonly failures: LogFailure[] = [];
  failureCount = 0;
  lines = 0;
  private readonly files: Record<'stdout' | 'stderr', fs.WriteStream>;
  private readonly pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.files = {
      stdout: fs.createWriteStream(path.join(dir, 'broker.log')),
      stderr: fs.createWriteStream(path.join(dir, 'broker-stderr.log')),
    };
  }

  /** Feeds one chunk of the broker's `stream`. */
  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.files[stream].write(chunk);
    let text = this.pending[stream] + chunk.toString('utf8');
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.line(text.slice(0, nl));
      text = text.slice(nl + 1);
      nl = text.indexOf('\n');
    }
    this.pending[stream] = text.length > lineBytesMax ? text.slice(0, lineBytesMax) : text;
  }

  private line(line: string): void {
    this.lines++;
    const failure = classifyLogLine(line.length > lineBytesMax ? line.slice(0, lineBytesMax) : line);
    if (!failure) return;
    this.failureCount++;
    if (this.failures.length < failuresKeptMax) this.failures.push(failure);
  }

  /** Classifies what is left without a newline and closes the files. */
  async close(): Promise<void> {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream] !== '') this.line(this.pending[stream]);
      this.pending[stream] = '';
    }
    await Promise.all(Object.values(this.files).map((f) => new Promise<void>((resolve) => f.end(() => resolve()))));
  }
}
