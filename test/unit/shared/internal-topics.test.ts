/**
 * The reserved topic names are decided in one place (shared/internal-topics);
 * the broker's own writers name their topics elsewhere, so this checks that
 * every topic they write is in the reserved set.
 */
import { describe, expect, it } from 'vitest';
import { offsetsTopic } from '../../../src/groups/offset-store.js';
import { deadLetterQueueOf, queueTopic, queueTopicPrefix } from '../../../src/protocol/native/queue-messages.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import {
  consumerOffsetsTopicName,
  isInternalTopic,
  queueTopicNamePrefix,
  refuseInternalTopic,
} from '../../../src/shared/internal-topics.js';
import { expectSluiceError } from '../../helpers/wire-bytes.js';

describe('internal topics', () => {
  it('cover the offsets topic and every queue and dead-letter queue topic', () => {
    expect(offsetsTopic).toBe(consumerOffsetsTopicName);
    expect(queueTopicPrefix).toBe(queueTopicNamePrefix);
    expect(isInternalTopic(offsetsTopic)).toBe(true);
    expect(isInternalTopic(queueTopic('orders'))).toBe(true);
    expect(isInternalTopic(queueTopic(deadLetterQueueOf('orders')))).toBe(true);
    expect(isInternalTopic('__transaction_state')).toBe(true);
  });

  it('leave user topics alone, even ones that look alike', () => {
    for (const name of ['orders', '__consumer_offsets.x', 'x__queue.y', '_queue.y', '__queue', '__other'])
      expect(isInternalTopic(name)).toBe(false);
  });

  it('refuseInternalTopic throws INVALID_TOPIC naming the action', () => {
    const err = expectSluiceError(() => refuseInternalTopic(queueTopic('a'), 'produce to'), ErrorCode.InvalidTopic);
    expect(err.message).toMatch(/cannot produce to __queue\.a: it is an internal topic/);
    expect(() => refuseInternalTopic('orders', 'produce to')).not.toThrow();
  });
});
