/**
 * What a leader does to a produce's timestamps before appending, by the
 * topic's configs (else the broker's), as Kafka's LogValidator does:
 *
 * - message.timestamp.type=LogAppendTime: every batch gets the leader's clock
 *   as its max timestamp and the LogAppendTime attribute (followers copy the
 *   stamped bytes, so every replica and every consumer sees the same time);
 * - CreateTime: a batch claiming LogAppendTime is refused, and with
 *   message.timestamp.difference.max.ms set, so is a batch holding a record
 *   whose timestamp is further than that from the leader's clock — both
 *   INVALID_TIMESTAMP, nothing appended. Records are only walked when the
 *   difference is bounded (Kafka's default, Long.MAX_VALUE, checks nothing).
 */
import type { BrokerConfig } from '../config/broker-config.js';
import { effectiveTopicConfig } from '../config/topic-config.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { stampLogAppendTime } from '../wire/log-append-time.js';
import { attributesOf, batchSizeOf, checkFraming, noTimestamp, timestampTypeLogAppend } from '../wire/record-batch.js';
import { forEachRecord } from '../wire/record-batch-decoder.js';

export interface TimestampPolicy {
  logAppendTime: boolean;
  /** message.timestamp.difference.max.ms; Number.MAX_SAFE_INTEGER or more: unbounded. */
  maxDifferenceMs: number;
}

export function timestampPolicyOf(configs: Record<string, string>, broker: BrokerConfig): TimestampPolicy {
  return {
    logAppendTime: effectiveTopicConfig(configs, 'message.timestamp.type', broker) === 'LogAppendTime',
    maxDifferenceMs: Number(effectiveTopicConfig(configs, 'message.timestamp.difference.max.ms', broker)),
  };
}

/**
 * Applies `policy` to the batches (their headers may be rewritten in place).
 * Returns the log append time given to them, or -1 under CreateTime (what
 * Produce answers as log_append_time_ms).
 */
export function applyTimestampPolicy(batches: Buffer, policy: TimestampPolicy, now: number): number {
  if (policy.logAppendTime) {
    stampLogAppendTime(batches, now);
    return now;
  }
  const bounded = policy.maxDifferenceMs < Number.MAX_SAFE_INTEGER;
  for (let pos = 0; pos < batches.length; pos += batchSizeOf(batches, pos)) {
    const size = checkFraming(batches, pos, batches.length);
    if ((attributesOf(batches, pos) & timestampTypeLogAppend) !== 0) {
      throw new SluiceError(
        ErrorCode.InvalidTimestamp,
        'a producer may not set the LogAppendTime timestamp type: the topic uses CreateTime',
      );
    }
    if (!bounded) continue;
    forEachRecord(batches.subarray(pos, pos + size), 0, (offset, timestamp) => {
      if (timestamp !== noTimestamp && Math.abs(timestamp - now) > policy.maxDifferenceMs) {
        throw new SluiceError(
          ErrorCode.InvalidTimestamp,
          `timestamp ${timestamp} of the record at batch offset ${offset} is out of range: it must lie within ` +
            `[${now - policy.maxDifferenceMs}, ${now + policy.maxDifferenceMs}] (message.timestamp.difference.max.ms ${policy.maxDifferenceMs})`,
        );
      }
    });
  }
  return -1;
}
