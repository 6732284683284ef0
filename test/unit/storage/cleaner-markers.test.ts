/**
 * Which transaction markers a cleaning pass finds alone (src/storage/cleaner-markers.ts):
 * a marker is alone when no record of its transaction stays after cleaning.
 */
import { describe, expect, it } from 'vitest';
import { cleanerTxnProducersMax } from '../../../src/shared/limits.js';
import { MarkerRetention } from '../../../src/storage/cleaner-markers.js';

describe('marker retention', () => {
  it('a marker is alone when every batch of its transaction kept no record, and not once one kept any', () => {
    const m = new MarkerRetention();
    m.dataBatch(1, 0);
    m.dataBatch(1, 0);
    m.dataBatch(2, 0);
    m.dataBatch(2, 3);
    m.dataBatch(2, 0); // a later emptied batch does not undo a kept one
    expect(m.markerAlone(1)).toBe(true);
    expect(m.markerAlone(2)).toBe(false);
    // each marker ends its transaction: the producer's next one starts afresh
    m.dataBatch(2, 0);
    expect(m.markerAlone(2)).toBe(true);
    // a marker whose records lay before the log start (none seen) is alone
    expect(m.markerAlone(3)).toBe(true);
  });

  it('keeps every marker it cannot judge once it tracks too many producers', () => {
    const m = new MarkerRetention();
    for (let p = 0; p < cleanerTxnProducersMax; p++) m.dataBatch(p, 0);
    m.dataBatch(cleanerTxnProducersMax, 5); // not tracked: its marker must stay
    expect(m.markerAlone(cleanerTxnProducersMax)).toBe(false);
    expect(m.markerAlone(0)).toBe(true); // tracked ones are still judged
  });
});
