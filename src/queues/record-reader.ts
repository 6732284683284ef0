/**
 * Payloads of pending messages, read from the queue's log when they are
 * delivered (entries in memory hold offsets only).
 */
import type { QueueDelivery } from '../protocol/native/queue-messages.js';
import { queueReadBytes } from '../shared/limits.js';
import type { PartitionLog } from '../storage/partition-log.js';
import type { DecodedRecord } from '../wire/record.js';
import { decodeLogRecords } from './log-records.js';
import type { Entry } from './queue-entry.js';

export class RecordReader {
  /** Decoded records of the last log read (see read). */
  private cache = new Map<number, DecodedRecord>();

  constructor(private readonly log: PartitionLog) {}

  /**
   * The records at `offsets`, read from the log batch by batch. The records
   * of the last read are kept: deliveries walk the log in order, so the next
   * fetch usually wants the same batch again (a prefetch-1 consumer would
   * otherwise decode a whole batch per message).
   */
  async read(offsets: number[]): Promise<Map<number, DecodedRecord>> {
    const found = new Map<number, DecodedRecord>();
    const wanted: number[] = [];
    for (const offset of [...offsets].sort((a, b) => a - b)) {
      const cached = this.cache.get(offset);
      if (cached) found.set(offset, cached);
      else wanted.push(offset);
    }
    const lookup = new Set(wanted);
    let i = 0;
    while (i < wanted.length) {
      const offset = wanted[i] as number;
      const read = await this.log.read(offset, queueReadBytes);
      if (read.records.length === 0) break;
      this.cache = new Map();
      for (const record of decodeLogRecords(read.records)) {
        this.cache.set(record.offset, record);
        if (lookup.has(record.offset)) found.set(record.offset, record);
      }
      while (i < wanted.length && (wanted[i] as number) < read.nextOffset) i++;
      if (read.nextOffset <= offset) break;
    }
    return found;
  }

  /** The entries as deliveries (payload from the log, delivery count from the entry). */
  async deliveries(entries: Entry[]): Promise<QueueDelivery[]> {
    if (entries.length === 0) return [];
    const records = await this.read(entries.map((e) => e.offset));
    const out: QueueDelivery[] = [];
    for (const entry of entries) {
      const record = records.get(entry.offset);
      if (!record) continue; // deleted underneath (cannot happen for a pending message); skipped
      out.push({
        offset: entry.offset,
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: record.timestamp,
        deliveryCount: entry.deliveryCount,
      });
    }
    return out;
  }
}
