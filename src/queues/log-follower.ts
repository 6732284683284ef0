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
 *
 * Transactional batches (a transacted session's QueueSend, issue 21) and
 * control batches (the transaction markers) are told apart per batch: their
 * records go to the dispatcher with the batch's producer, replay and live
 * alike (queue-txns.ts holds them pending until the producer's marker), and a
 * control batch is never a message.
 */
import type { PartitionReplica } from '../replication/partition-replica.js';
import type { DecodedRecord } from '../wire/record.js';
import {
  attributesOf,
  baseSequenceOf,
  checkFraming,
  controlFlag,
  producerEpochOf,
  producerIdOf,
  recordsCountOf,
  transactionalFlag,
} from '../wire/record-batch.js';
import { decodeBatchRecords } from '../wire/record-batch-decoder.js';
import { isStateRecord } from './queue-records.js';

/** The producer of a transactional batch. */
export interface TxnBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  records: number;
}

export interface FollowedRecords {
  /** A message record (`txn`: of a transactional batch, pending until its marker). */
  message(record: DecodedRecord, txn?: TxnBatch): void;
  /** A state record of the replay, or of a transactional batch (`txn`) at any time. */
  state(record: DecodedRecord, txn?: TxnBatch): void;
  /** A transactional batch was read (before its records). */
  txnBatch(txn: TxnBatch): void;
  /** A transaction marker (control batch) of `producerId` at `offset`. */
  marker(producerId: number, committed: boolean, offset: number): void;
  /** A scan pass took in new messages. */
  added(): void;
}

export class LogFollower {
  private scanOffset: number;
  private readonly replayEnd: number;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private stopped = false;
  private replayFinished = false;
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
      this.replayDone = (err) => {
        this.replayFinished = true;
        if (err === undefined) resolve();
        else reject(err);
      };
    });
    // a caller that never awaits it (the follower stopped first) must not see an unhandled rejection
    this.replayed.catch(() => undefined);
  }

  /** The replay is under way (nobody has been served yet). */
  get replaying(): boolean {
    return !this.replayFinished;
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
        if (this.takeIn(read.records, upTo)) added = true;
        this.scanOffset = Math.max(read.nextOffset, this.scanOffset);
      }
      if (added) this.records.added();
    } while (this.rescan && !this.stopped);
  }

  /** The records of the whole batches in `buf` below `upTo` and not yet taken in; true when a message was. */
  private takeIn(buf: Buffer, upTo: number): boolean {
    let added = false;
    for (let pos = 0; pos < buf.length; ) {
      const size = checkFraming(buf, pos, buf.length);
      const attributes = attributesOf(buf, pos);
      const records = decodeBatchRecords(buf.subarray(pos, pos + size)).filter(
        (r) => r.offset >= this.scanOffset && r.offset < upTo,
      );
      const producerId = producerIdOf(buf, pos);
      if (attributes & controlFlag) {
        // key: int16 version, int16 type (0 abort, 1 commit); never a message
        for (const r of records) {
          if (r.key && r.key.length >= 4) this.records.marker(producerId, r.key.readInt16BE(2) === 1, r.offset);
        }
      } else if (attributes & transactionalFlag) {
        const txn: TxnBatch = {
          producerId,
          producerEpoch: producerEpochOf(buf, pos),
          baseSequence: baseSequenceOf(buf, pos),
          records: recordsCountOf(buf, pos),
        };
        if (records.length > 0) this.records.txnBatch(txn);
        for (const r of records) {
          if (isStateRecord(r)) this.records.state(r, txn);
          else this.records.message(r, txn);
        }
      } else {
        for (const r of records) {
          if (isStateRecord(r)) {
            // our own state records (after the replay) are already applied
            if (r.offset < this.replayEnd) this.records.state(r);
          } else {
            this.records.message(r);
            added = true;
          }
        }
      }
      pos += size;
    }
    return added;
  }
}
