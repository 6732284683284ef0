/**
 * Reads a queue's log for its dispatcher. On start it replays the whole log
 * once (up to the log end: messages, then what happened to them); then it
 * follows the log as new messages become committed (up to the high
 * watermark). State records after the replay are the dispatcher's own
 * (already applied), so they are skipped while following.
 */
import type { PartitionReplica } from '../replication/partition-replica.js';
import type { DecodedRecord } from '../wire/record.js';
import { decodeRecords } from '../wire/record-batch-decoder.js';
import { isStateRecord } from './queue-records.js';

export interface FollowedRecords {
  /** A message record. */
  message(record: DecodedRecord): void;
  /** A state record of the replay. */
  state(record: DecodedRecord): void;
  /** A scan pass took in new messages. */
  added(): void;
}

export class LogFollower {
  private scanOffset: number;
  private readonly replayEnd: number;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = false;

  constructor(
    private readonly replica: PartitionReplica,
    private readonly records: FollowedRecords,
  ) {
    this.scanOffset = replica.log.logStartOffset;
    this.replayEnd = replica.log.logEndOffset;
  }

  /** Every record below this offset has been taken in. */
  get offset(): number {
    return this.scanOffset;
  }

  /** Called when the high watermark moves: new committed messages to pick up. */
  onCommitted(): void {
    if (this.stopped) return;
    this.rescan = true;
    if (!this.scanning) this.start();
  }

  /** One scan at a time; a notification during a scan (or just after its last pass) runs another. */
  start(): Promise<void> {
    const scanning = this.scan().finally(() => {
      this.scanning = undefined;
      if (this.rescan && !this.stopped) this.start();
    });
    this.scanning = scanning;
    return scanning;
  }

  /** Resolves once the scan has taken in everything up to `offset` (a send is then visible to stats and browse). */
  async scannedPast(offset: number): Promise<void> {
    // the append was acknowledged by the ISR, so the high watermark is past `offset`: each scan makes progress
    for (let round = 0; this.scanOffset <= offset && !this.stopped && round < 100; round++) {
      this.onCommitted();
      await this.scanning;
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async scan(): Promise<void> {
    const log = this.replica.log;
    do {
      this.rescan = false;
      const upTo = this.scanOffset < this.replayEnd ? log.logEndOffset : this.replica.highWatermark;
      let added = false;
      while (this.scanOffset < upTo && !this.stopped) {
        const read = await log.read(this.scanOffset, 1024 * 1024, { maxOffset: upTo });
        if (read.records.length === 0) break;
        for (const record of decodeRecords(read.records)) {
          if (record.offset < this.scanOffset || record.offset >= upTo) continue;
          if (isStateRecord(record)) {
            // our own state records (after the replay) are already applied
            if (record.offset < this.replayEnd) this.records.state(record);
          } else {
            this.records.message(record);
            added = true;
          }
        }
        this.scanOffset = Math.max(read.nextOffset, this.scanOffset);
      }
      if (added) this.records.added();
    } while (this.rescan && !this.stopped);
  }
}
