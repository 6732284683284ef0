/**
 * Reads a queue's log for its dispatcher. On start it replays the log up to
 * the log end it had then (messages, then what happened to them); then it
 * follows the log as new messages become committed. It never reads past the
 * high watermark, the replay included: a new leader's log may end with
 * records no other replica has yet (a message whose send was never
 * acknowledged), and a message must not be delivered before it is committed
 * (issue 18), so the replay completes only once the high watermark has
 * reached that log end. State records after the replay's end are the
 * dispatcher's own (already applied), so they are skipped while following.
 */
import type { PartitionReplica } from '../replication/partition-replica.js';
import type { DecodedRecord } from '../wire/record.js';
import { decodeLogRecords } from './log-records.js';
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
  private replayDone: (err?: unknown) => void = () => {};
  /**
   * Resolves once every record below the log end of the start has been taken
   * in (committed by then), or the follower is stopped; rejects if a scan of
   * the replay fails.
   */
  readonly replayed: Promise<void>;

  constructor(
    private readonly replica: PartitionReplica,
    private readonly records: FollowedRecords,
  ) {
    this.scanOffset = replica.log.logStartOffset;
    this.replayEnd = replica.log.logEndOffset;
    this.replayed = new Promise<void>((resolve, reject) => {
      this.replayDone = (err) => (err === undefined ? resolve() : reject(err));
    });
    // a caller that never awaits it (the follower stopped first) must not see an unhandled rejection
    this.replayed.catch(() => undefined);
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
    scanning.then(
      () => {
        if (this.scanOffset >= this.replayEnd) this.replayDone();
      },
      (err: unknown) => this.replayDone(err),
    );
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
    this.replayDone();
  }

  private async scan(): Promise<void> {
    const log = this.replica.log;
    do {
      this.rescan = false;
      const upTo = this.replica.highWatermark;
      let added = false;
      while (this.scanOffset < upTo && !this.stopped) {
        const read = await log.read(this.scanOffset, 1024 * 1024, { maxOffset: upTo });
        if (read.records.length === 0) break;
        for (const record of decodeLogRecords(read.records)) {
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
