/**
 * Topic config edits (topic-config.ts): the values each key takes, and what
 * IncrementalAlterConfigs' SET / DELETE / APPEND / SUBTRACT do to a topic's
 * overrides — checked before anything changes.
 */
import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import {
  AlterConfigOp,
  applyTopicConfigChanges,
  checkTopicConfig,
  effectiveTopicConfig,
  topicConfigChanges,
} from '../../../src/config/topic-config.js';
import { ErrorCode } from '../../../src/shared/errors.js';

const broker = parseBrokerConfig(new Map([['log.cleanup.policy', 'compact']]));
const invalid = expect.objectContaining({ code: ErrorCode.InvalidConfig });

describe('topic configs', () => {
  it('takes only the values Kafka takes for the enumerated keys', () => {
    for (const v of ['delete', 'compact', 'compact,delete', 'delete, compact']) checkTopicConfig('cleanup.policy', v);
    for (const v of ['producer', 'uncompressed', 'none', 'gzip', 'snappy', 'lz4', 'zstd'])
      checkTopicConfig('compression.type', v);
    checkTopicConfig('message.timestamp.type', 'LogAppendTime');
    checkTopicConfig('message.timestamp.difference.max.ms', '0');
    expect(() => checkTopicConfig('cleanup.policy', 'compact,shred')).toThrow(invalid);
    expect(() => checkTopicConfig('cleanup.policy', '')).toThrow(invalid);
    expect(() => checkTopicConfig('compression.type', 'brotli')).toThrow(
      'invalid value "brotli" for compression.type: one of producer, uncompressed, none, gzip, snappy, lz4, zstd',
    );
    expect(() => checkTopicConfig('message.timestamp.type', 'logappendtime')).toThrow(invalid);
    expect(() => checkTopicConfig('message.timestamp.difference.max.ms', '-1')).toThrow(invalid);
    expect(() => checkTopicConfig('unclean.leader.election.enable', 'yes')).toThrow(invalid);
    expect(() => checkTopicConfig('retention.msec', '1')).toThrow(/known: segment\.bytes, .*cleanup\.policy/);
  });

  it('falls back to the broker value of a key the topic does not override', () => {
    expect(effectiveTopicConfig({}, 'cleanup.policy', broker)).toBe('compact');
    expect(effectiveTopicConfig({ 'cleanup.policy': 'delete' }, 'cleanup.policy', broker)).toBe('delete');
    expect(effectiveTopicConfig({}, 'message.timestamp.type', broker)).toBe('CreateTime');
  });

  it('SET, DELETE, APPEND (from the broker value when not overridden) and SUBTRACT', () => {
    const current = { 'retention.ms': '1000' };
    const changes = topicConfigChanges(
      current,
      [
        { name: 'retention.ms', op: AlterConfigOp.Delete, value: null },
        { name: 'segment.ms', op: AlterConfigOp.Set, value: ' 5000 ' },
        { name: 'cleanup.policy', op: AlterConfigOp.Append, value: 'delete,compact' },
      ],
      broker,
    );
    expect(changes).toEqual({ 'retention.ms': null, 'segment.ms': '5000', 'cleanup.policy': 'compact,delete' });
    const next = applyTopicConfigChanges(current, changes);
    expect(next).toEqual({ 'segment.ms': '5000', 'cleanup.policy': 'compact,delete' });
    expect(
      topicConfigChanges(next, [{ name: 'cleanup.policy', op: AlterConfigOp.Subtract, value: 'compact' }], broker),
    ).toEqual({ 'cleanup.policy': 'delete' });
  });

  it('refuses APPEND/SUBTRACT on a non-list key, an empty result, a key named twice, an unknown op or key', () => {
    const refuse = (alterations: Parameters<typeof topicConfigChanges>[1]) => () =>
      topicConfigChanges({}, alterations, broker);
    expect(refuse([{ name: 'retention.ms', op: AlterConfigOp.Append, value: '1' }])).toThrow(/list configs only/);
    expect(refuse([{ name: 'cleanup.policy', op: AlterConfigOp.Subtract, value: 'compact' }])).toThrow(invalid);
    expect(
      refuse([
        { name: 'retention.ms', op: AlterConfigOp.Set, value: '1' },
        { name: 'retention.ms', op: AlterConfigOp.Delete, value: null },
      ]),
    ).toThrow(expect.objectContaining({ code: ErrorCode.InvalidRequest }));
    expect(refuse([{ name: 'retention.ms', op: 7 as AlterConfigOp, value: '1' }])).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidRequest }),
    );
    expect(refuse([{ name: 'retention.ms', op: AlterConfigOp.Set, value: null }])).toThrow(invalid);
    expect(refuse([{ name: 'nope', op: AlterConfigOp.Delete, value: null }])).toThrow(invalid);
  });
});
