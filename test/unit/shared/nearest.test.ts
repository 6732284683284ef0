import { describe, expect, it } from 'vitest';
import { unknownKeyWarning } from '../../../src/config/broker-config.js';
import { configKeyRows } from '../../../src/config/config-keys.js';
import { editDistance, nearestName } from '../../../src/shared/nearest.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('log.retention.msec', 'log.retention.ms')).toBe(2);
  });

  it('gives up past the limit', () => {
    expect(editDistance('aaaaaaaa', 'bbbbbbbb', 2)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('nearestName', () => {
  const keys = configKeyRows.map(([key]) => key);

  it('suggests the key a typo meant', () => {
    expect(nearestName('log.retention.msec', keys)).toBe('log.retention.ms');
    expect(nearestName('num.partition', keys)).toBe('num.partitions');
    expect(nearestName('HTTP.PORT', keys)).toBe('http.port');
  });

  it('suggests nothing for a name far from every key', () => {
    expect(nearestName('zzz.unrelated', keys)).toBeUndefined();
    expect(nearestName('x', keys)).toBeUndefined();
    expect(nearestName('a'.repeat(10_000), keys)).toBeUndefined();
  });

  it('the broker config warning says "did you mean"', () => {
    expect(unknownKeyWarning('log.retention.msec', keys)).toBe(
      'unknown config key log.retention.msec (ignored): did you mean log.retention.ms?',
    );
    expect(unknownKeyWarning('zzz.unrelated', keys)).toBe('unknown config key zzz.unrelated (ignored)');
  });
});
