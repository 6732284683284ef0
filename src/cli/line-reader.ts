/**
 * Lines from a byte stream in batches, with bounded memory: the stream is
 * read chunk by chunk (it is not read further until the caller asks for the
 * next batch), and a line longer than `lineBytesMax` is an error rather than
 * an unbounded buffer. Lines end with \n or \r\n; a last line without a
 * newline still counts. Bytes are decoded as UTF-8 per whole line, so a
 * character split across chunks stays intact.
 */
import { badValue } from './cli-args.js';

export interface LineReaderOptions {
  /** Longest line accepted, in bytes. */
  lineBytesMax: number;
  /** Most lines in one batch. */
  batchLinesMax: number;
}

function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}

export async function* readLineBatches(
  input: AsyncIterable<Buffer | string>,
  options: LineReaderOptions,
): AsyncGenerator<string[]> {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let batch: string[] = [];
  let lineNumber = 0;
  const tooLong = (): Error =>
    badValue(`stdin line ${lineNumber + 1} is longer than ${options.lineBytesMax} bytes; records are one per line`);

  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      if (partialBytes + piece.length > options.lineBytesMax + 1) throw tooLong();
      const line = partialBytes === 0 ? piece : Buffer.concat([...partial, piece]);
      partial = [];
      partialBytes = 0;
      batch.push(decodeLine(line));
      lineNumber++;
      start = nl + 1;
      if (batch.length >= options.batchLinesMax) {
        yield batch;
        batch = [];
      }
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      partialBytes += rest.length;
      if (partialBytes > options.lineBytesMax + 1) throw tooLong();
      // copy: the stream may reuse its buffer
      partial.push(Buffer.from(rest));
    }
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  if (partialBytes > 0) batch.push(decodeLine(Buffer.concat(partial)));
  if (batch.length > 0) yield batch;
}
