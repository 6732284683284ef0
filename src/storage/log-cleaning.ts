/**
 * A log's side of the log cleaner (log-cleaner.ts does the work): the
 * cleaner's checkpoint and whether the log may hold offset gaps (both made
 * durable in the partition's metadata), one cleaning pass at a time, and the
 * stop that closing the log waits for. PartitionLog keeps the members its
 * callers use (cleanability, clean, cleanedTo, cleanable) and delegates here.
 */
import { cleanerDedupeBufferBytesDefault } from '../shared/limits.js';
import {
  type Cleanability,
  type CleanOptions,
  type CleanStats,
  type CleanTarget,
  cleanability,
  cleanLog,
} from './log-cleaner.js';
import type { LogConfig } from './log-config.js';
import type { PartitionIndex } from './partition-index.js';
import type { SegmentList } from './segment-list.js';

/** What cleaning needs from the log around it. */
export interface CleaningHooks {
  readonly name: string;
  readonly dir: string;
  readonly segments: SegmentList;
  readonly index: PartitionIndex;
  /** The log's config now. */
  config(): LogConfig;
  /** The last offset of a producer's latest batch, undefined when unknown. */
  producerLastOffset(producerId: number): number | undefined;
  /** The last stable offset: min(high watermark, first offset of the oldest open transaction). */
  stableEnd(): number;
  /** Reads what producerLastOffset answers from (the producers' state) if not yet read; before every pass. */
  prepare(): Promise<void>;
  /** Open and writable (closing is tracked here: see stop). */
  open(): boolean;
  /** Drops read state that may point into a replaced file. */
  segmentReplaced(): void;
  /** Makes the checkpoint and the offset-gaps mark durable (the partition's metadata). */
  persist(): Promise<void>;
}

export class LogCleaning {
  /** The log cleaner's checkpoint: offsets below it are clean (log-cleaner.ts). */
  private checkpoint: number;
  /** The log may hold offset gaps (PartitionMeta.offsetGaps). */
  private gaps: boolean;
  /** Set by stop (the log closes, is abandoned or deleted): a pass under way stops at its next step. */
  private stopped = false;
  /** One cleaning pass at a time. */
  private pass: Promise<CleanStats | undefined> | undefined;
  private readonly target: CleanTarget;

  constructor(
    private readonly hooks: CleaningHooks,
    meta: { cleanerCheckpoint?: number; offsetGaps?: boolean },
  ) {
    this.checkpoint = meta.cleanerCheckpoint ?? 0;
    this.gaps = meta.offsetGaps ?? false;
    this.target = {
      name: hooks.name,
      dir: hooks.dir,
      segments: hooks.segments,
      index: hooks.index,
      config: () => hooks.config(),
      checkpoint: () => this.checkpoint,
      producerLastOffset: (producerId) => hooks.producerLastOffset(producerId),
      stableEnd: () => hooks.stableEnd(),
      usable: () => this.usable,
      segmentReplaced: () => hooks.segmentReplaced(),
      gapsBegin: () => (this.gaps ? Promise.resolve() : this.allowOffsetGaps()),
      checkpointMoved: async (offset) => {
        this.checkpoint = Math.min(offset, hooks.segments.logEndOffset);
        await hooks.persist();
      },
    };
  }

  /** The log cleaner's checkpoint: offsets below it have been cleaned. */
  get cleanedTo(): number {
    return this.checkpoint;
  }

  /** The log may hold offset gaps from now on (recovery must accept them). */
  get offsetGaps(): boolean {
    return this.gaps;
  }

  /** Open, writable and not closing: the cleaner may work on the log. */
  get usable(): boolean {
    return !this.stopped && this.hooks.open();
  }

  /** How dirty the log is for the cleaner; undefined when its policy does not compact or nothing is cleanable. */
  cleanability(nowMs: number): Cleanability | undefined {
    return cleanability(this.target, nowMs);
  }

  /** One cleaning pass (the one under way, if any). */
  clean(
    options: Omit<CleanOptions, 'dedupeBufferBytes'> & { dedupeBufferBytes?: number },
  ): Promise<CleanStats | undefined> {
    if (this.pass) return this.pass;
    const pass = this.hooks
      .prepare()
      .then(() =>
        cleanLog(this.target, {
          dedupeBufferBytes: cleanerDedupeBufferBytesDefault,
          ...options,
        }),
      )
      .finally(() => {
        this.pass = undefined;
      });
    this.pass = pass;
    return pass;
  }

  /** Stops a cleaning pass under way (it stops at its next step) and waits for it; no pass runs after. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pass?.catch(() => undefined);
  }

  /** Makes durable that the log may hold offset gaps (a compacted leader's, or the cleaner's own). */
  async allowOffsetGaps(): Promise<void> {
    this.gaps = true;
    await this.hooks.persist();
  }

  /** The log was truncated to `logEndOffset`: nothing past it is clean. */
  truncatedTo(logEndOffset: number): void {
    this.checkpoint = Math.min(this.checkpoint, logEndOffset);
  }

  /** The log starts again, empty, at `offset` (truncateFullyAndStartAt). */
  restartAt(offset: number): void {
    this.checkpoint = offset;
  }
}
