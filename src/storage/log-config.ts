/**
 * The settings that shape one partition's log. The broker builds these from
 * Kafka-named properties (the config key table, src/config/config-keys.ts); tests build them
 * directly.
 */
export interface LogConfig {
  /** log.segment.bytes: roll when the active segment would grow past this. */
  segmentBytes: number;
  /** log.roll.ms: roll a non-empty segment this long after its first append. */
  rollMs: number;
  /** log.retention.ms: delete segments whose newest record is older; -1 keeps forever. */
  retentionMs: number;
  /** log.retention.bytes: delete oldest segments while the log is larger; -1 keeps all. */
  retentionBytes: number;
  /** log.index.interval.bytes: bytes between sparse index entries. */
  indexIntervalBytes: number;
  /** log.flush.interval.messages: fsync after this many unflushed records. */
  flushIntervalMessages: number;
  /** log.flush.interval.ms: fsync when the oldest unflushed record is this old. */
  flushIntervalMs: number;
  /** message.max.bytes: largest batch accepted on append. */
  maxMessageBytes: number;
  /** producer.id.expiration.ms: idempotent producers' sequence state older than this may be dropped. */
  producerIdExpirationMs: number;
  /** cleanup.policy: 'delete' (retention), 'compact' (the log cleaner) or both, comma-separated. */
  cleanupPolicy: string;
  /** delete.retention.ms: a tombstone stays this long after the clean that first kept it. */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: clean once the uncleaned share of the closed segments' bytes reaches this. */
  minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms: a record stays uncompacted at least this long after its timestamp. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty record older than this makes the log cleanable whatever the ratio. */
  maxCompactionLagMs: number;
}

/** True when cleanup.policy includes compact. */
export function compacts(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return config.cleanupPolicy.split(',').some((p) => p.trim() === 'compact');
}

/** True when cleanup.policy includes delete (time and size retention apply). */
export function deletes(config: Pick<LogConfig, 'cleanupPolicy'>): boolean {
  return config.cleanupPolicy.split(',').some((p) => p.trim() === 'delete');
}

/** Kafka's defaults; "never" is a very large number so comparisons stay simple. */
export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  rollMs: 7 * 24 * 60 * 60 * 1000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  flushIntervalMessages: Number.MAX_SAFE_INTEGER,
  flushIntervalMs: Number.MAX_SAFE_INTEGER,
  maxMessageBytes: 1024 * 1024 + 12,
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
});
