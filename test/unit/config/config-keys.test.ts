/**
 * The one table of config keys (src/config/config-keys.ts): the broker parser,
 * the topic-override check and the storage defaults agree with it.
 */
import { describe, expect, it } from 'vitest';
import { logConfigOf, parseBrokerConfig } from '../../../src/config/broker-config.js';
import { brokerKeyOfLogField, configKeyRows, topicKeyRows } from '../../../src/config/config-keys.js';
import { topicConfigKeys, topicLogOverrides } from '../../../src/config/topic-config.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { defaultLogConfig, type LogConfig } from '../../../src/storage/log-config.js';

const parse = (entries: Record<string, string>) => parseBrokerConfig(new Map(Object.entries(entries)));

describe('config keys: one table', () => {
  it("sets every LogConfig field from exactly one broker key, whose default is storage's", () => {
    const fields = Object.keys(defaultLogConfig) as (keyof LogConfig)[];
    for (const field of fields) {
      expect(configKeyRows.filter(([, spec]) => spec.log === field).map(([key]) => key)).toEqual([
        brokerKeyOfLogField(field),
      ]);
    }
    expect(logConfigOf(parse({}))).toEqual(defaultLogConfig);
  });

  it('states each topic key once, in table order, log settings as bounded numbers or a list of choices', () => {
    expect(new Set(topicConfigKeys).size).toBe(topicConfigKeys.length);
    expect(topicConfigKeys).toEqual([
      'segment.bytes',
      'segment.ms',
      'retention.ms',
      'retention.bytes',
      'cleanup.policy',
      'delete.retention.ms',
      'min.cleanable.dirty.ratio',
      'min.compaction.lag.ms',
      'max.compaction.lag.ms',
      'index.interval.bytes',
      'flush.messages',
      'flush.ms',
      'max.message.bytes',
      'message.timestamp.type',
      'message.timestamp.difference.max.ms',
      'min.insync.replicas',
      'unclean.leader.election.enable',
      'compression.type',
    ]);
    for (const { topic, spec } of topicKeyRows) {
      if (spec.log === undefined) continue;
      if (spec.kind === 'list') {
        expect(spec.values, topic).toBeDefined();
        continue;
      }
      expect(['int', 'double'], topic).toContain(spec.kind);
      expect(spec.min, topic).toBeDefined();
    }
  });

  it('checks a topic override against the bounds of the broker key it overrides', () => {
    for (const { topic, broker, spec } of topicKeyRows) {
      if (spec.kind !== 'int' || spec.min === undefined) continue;
      const below = String(spec.min - 1);
      expect(() => parse({ [broker]: below }), broker).toThrow(`invalid value "${below}" for ${broker}: less than`);
      expect(() => topicLogOverrides({ [topic]: below }), topic).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidConfig }),
      );
      expect(() => topicLogOverrides({ [topic]: String(spec.min) }), topic).not.toThrow();
      expect(parse({ [broker]: String(spec.min) }).int(broker)).toBe(spec.min);
      if (spec.max === undefined) continue;
      const above = String(spec.max + 1);
      expect(() => parse({ [broker]: above }), broker).toThrow(`invalid value "${above}" for ${broker}: more than`);
      expect(() => topicLogOverrides({ [topic]: above }), topic).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidConfig }),
      );
    }
    expect(() => topicLogOverrides({ 'segment.bytes': '1023' })).toThrow(
      'invalid value "1023" for segment.bytes: an integer in [1024, 2147483647]',
    );
    expect(() => topicLogOverrides({ 'min.insync.replicas': '0' })).toThrow(
      /^invalid value "0" for min.insync.replicas$/,
    );
  });
});

describe('compression.type (broker default and topic override)', () => {
  it("takes Kafka's values (zstd too) and 'none'; refuses others by name", () => {
    expect(parse({}).string('compression.type')).toBe('producer');
    for (const v of ['producer', 'uncompressed', 'none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      expect(parse({ 'compression.type': v }).string('compression.type')).toBe(v);
      expect(topicLogOverrides({ 'compression.type': v })).toEqual({});
    }
    for (const v of ['brotli', 'LZ4', 'ZSTD', '']) {
      expect(() => parse({ 'compression.type': v }), v).toThrow('compression.type');
      let code: string | undefined;
      try {
        topicLogOverrides({ 'compression.type': v });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code, v).toBe(ErrorCode.InvalidConfig);
    }
  });
});

describe('compaction configs (Kafka names)', () => {
  it('takes cleanup.policy as delete, compact or both, and min.cleanable.dirty.ratio as a number in [0, 1]', () => {
    expect(topicLogOverrides({ 'cleanup.policy': 'compact,delete', 'min.cleanable.dirty.ratio': '0.25' })).toEqual({
      cleanupPolicy: 'compact,delete',
      minCleanableDirtyRatio: 0.25,
    });
    expect(() => topicLogOverrides({ 'cleanup.policy': 'shred' })).toThrow('invalid value "shred" for cleanup.policy');
    expect(() => topicLogOverrides({ 'min.cleanable.dirty.ratio': '1.5' })).toThrow(
      'invalid value "1.5" for min.cleanable.dirty.ratio',
    );
    expect(() => topicLogOverrides({ 'delete.retention.ms': '-1' })).toThrow('for delete.retention.ms');
  });
});
