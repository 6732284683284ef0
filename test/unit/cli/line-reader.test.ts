import { describe, expect, it } from 'vitest';
import { readLineBatches } from '../../../src/cli/line-reader.js';
import { isSluiceError } from '../../../src/shared/errors.js';

async function* chunks(parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

async function lines(parts: (string | Buffer)[], lineBytesMax = 1024, batchLinesMax = 1000): Promise<string[][]> {
  const out: string[][] = [];
  for await (const batch of readLineBatches(chunks(parts), { lineBytesMax, batchLinesMax })) out.push(batch);
  return out;
}

describe('readLineBatches', () => {
  it('splits on \\n and \\r\\n, joins lines across chunks, keeps a last line without newline', async () => {
    expect((await lines(['a\nb', 'c\r\nd\n', '', 'e'])).flat()).toEqual(['a', 'bc', 'd', 'e']);
  });

  it('keeps empty lines in the middle but adds none for a final newline', async () => {
    expect((await lines(['a\n\nb\n'])).flat()).toEqual(['a', '', 'b']);
  });

  it('decodes a UTF-8 character split across chunks', async () => {
    const bytes = Buffer.from('é\n', 'utf8');
    expect((await lines([bytes.subarray(0, 1), bytes.subarray(1)])).flat()).toEqual(['é']);
  });

  it('bounds batches and lines', async () => {
    const batches = await lines(['1\n2\n3\n4\n5\n'], 1024, 2);
    expect(batches).toEqual([['1', '2'], ['3', '4'], ['5']]);
    await expect(lines(['x'.repeat(10), 'y'.repeat(10), '\n'], 15)).rejects.toSatisfy((e) => isSluiceError(e));
    await expect(lines([`${'x'.repeat(20)}\n`], 15)).rejects.toSatisfy((e) => isSluiceError(e));
    expect((await lines([`${'x'.repeat(15)}\r\n`], 15)).flat()).toEqual(['x'.repeat(15)]);
  });
});
