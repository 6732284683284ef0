import { afterEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../../src/storage/log-manager.js';
import { encodeRecordBatch } from '../../../src/wire/record-batch-encoder.js';
import { decodeRecords } from '../../../src/wire/record-batch-decoder.js';
import { tempDir } from '../../helpers/temp-dir.js';

describe('smoke', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => { for (const c of cleanups.splice(0)) c(); });
  it('appends and reads back, across a reopen', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    let m = await LogManager.open({ logDirs: [t.dir], config: { segmentBytes: 4096, indexIntervalBytes: 256 } });
    const log = await m.getOrCreate('orders', 0);
    for (let i = 0; i < 100; i++) {
      const b = encodeRecordBatch([{ key: Buffer.from(`k${i}`), value: Buffer.from(`value-${i}`.repeat(5)), timestamp: 1000 + i }, { key: null, value: Buffer.from('x'), timestamp: 1000 + i }]);
      const r = await log.append(b);
      expect(r.baseOffset).toBe(i * 2);
    }
    expect(log.segmentCount).toBeGreaterThan(2);
    const read = await log.read(77, 1 << 20);
    const recs = decodeRecords(read.records);
    expect(recs[0]?.offset).toBeLessThanOrEqual(77);
    expect(recs.at(-1)?.offset).toBe(read.nextOffset - 1);
    expect(await log.offsetForTimestamp(1050)).toEqual({ offset: 100, timestamp: 1050 });
    await m.close();
    m = await LogManager.open({ logDirs: [t.dir], config: { segmentBytes: 4096, indexIntervalBytes: 256 } });
    const again = m.get('orders', 0)!;
    expect(again.logEndOffset).toBe(200);
    let off = 0; const seen: number[] = [];
    while (off < 200) { const r = await again.read(off, 1000); for (const rec of decodeRecords(r.records)) if (rec.offset >= off) seen.push(rec.offset); off = r.nextOffset; }
    expect(seen).toEqual([...Array(200).keys()]);
    await m.close();
  });
});
