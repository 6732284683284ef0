/** The layer table the lint enforces (scripts/layer-table.cjs): acyclic, and the arrows issue 15 fixed. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { allowed, assertAcyclic } = require('../../../scripts/layer-table.cjs') as {
  allowed: Record<string, string[]>;
  assertAcyclic: (table: Record<string, string[]>) => void;
};

describe('layer table', () => {
  it('refuses a cycle and an unknown layer', () => {
    expect(() => assertAcyclic({ a: ['b'], b: ['c'], c: ['a'] })).toThrow(/layer cycle a → b → c → a/);
    expect(() => assertAcyclic({ a: ['nowhere'] })).toThrow(/unknown layer nowhere/);
    expect(() => assertAcyclic(allowed)).not.toThrow();
  });

  it('keeps the bottom layers at the bottom', () => {
    expect(allowed.shared).toEqual([]);
    expect(allowed.wire).toEqual(['shared']);
    expect([...(allowed.storage ?? [])].sort()).toEqual(['shared', 'wire']);
  });

  it('lets only the CLI import the composition root', () => {
    const importers = Object.entries(allowed)
      .filter(([, deps]) => deps.includes('broker'))
      .map(([layer]) => layer);
    expect(importers).toEqual(['cli']);
  });

  it('keeps data flowing codec → handler → replica manager → storage', () => {
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
      if (from === to) return true;
      if (seen.has(from)) return false;
      seen.add(from);
      return (allowed[from] ?? []).some((next) => reaches(next, to, seen));
    };
    expect(reaches('server', 'handlers')).toBe(true);
    expect(reaches('handlers', 'replication')).toBe(true);
    expect(reaches('replication', 'storage')).toBe(true);
    for (const [low, high] of [
      ['storage', 'replication'],
      ['replication', 'handlers'],
      ['handlers', 'server'],
      ['protocol/native', 'protocol/kafka'],
      ['replication', 'metrics'],
      ['queues', 'handlers'],
    ] as const) {
      expect(reaches(low, high), `${low} must not reach ${high}`).toBe(false);
    }
    // the HTTP API asks the broker (through the client library); it speaks no codec itself
    expect(allowed.http).not.toContain('protocol/native');
    expect(allowed.http).not.toContain('protocol/kafka');
  });
});
