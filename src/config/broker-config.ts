/**
 * The broker's configuration: the keys of config-keys.ts (Kafka's names, Kafka's
 * defaults where Kafka has the key), checked against their bounds at start-up.
 * Unknown keys are reported as warnings; invalid values are errors that stop
 * the broker from starting.
 */

import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { queuedRequestSmallReserveDivisor } from '../shared/limits.js';
import { nearestName } from '../shared/nearest.js';
import type { LogConfig } from '../storage/log-config.js';
import { type BrokerKey, brokerKeyOfLogField, type ConfigKeySpec, configKeyRows } from './config-keys.js';
import type { Properties } from './properties.js';

export interface BrokerConfig {
  values: ReadonlyMap<BrokerKey, string | number | boolean | string[]>;
  /**
   * The keys the properties (file and overrides) set, each with the spelling
   * used (the key or an alias); the others hold their default. DescribeConfigs
   * tells STATIC_BROKER_CONFIG from DEFAULT_CONFIG by it.
   */
  given?: ReadonlyMap<BrokerKey, string>;
  warnings: string[];
  int(key: BrokerKey): number;
  bool(key: BrokerKey): boolean;
  string(key: BrokerKey): string;
  list(key: BrokerKey): string[];
}

function invalid(key: string, value: string, why: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidConfig, `invalid value "${value}" for ${key}: ${why}`);
}

function parseValue(key: string, spec: ConfigKeySpec, raw: string, factor = 1): string | number | boolean | string[] {
  const value = raw.trim();
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) throw invalid(key, value, 'not an integer');
      const n = Math.min(Number(value) * factor, Number.MAX_SAFE_INTEGER);
      if (spec.min !== undefined && n < spec.min) throw invalid(key, value, `less than ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw invalid(key, value, `more than ${spec.max}`);
      return n;
    }
    case 'double': {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n)) throw invalid(key, value, 'not a number');
      if (spec.min !== undefined && n < spec.min) throw invalid(key, value, `less than ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw invalid(key, value, `more than ${spec.max}`);
      return n;
    }
    case 'bool':
      if (value !== 'true' && value !== 'false') throw invalid(key, value, 'not true or false');
      return value === 'true';
    case 'list': {
      const items = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (items.length === 0) throw invalid(key, value, 'empty list');
      const bad = spec.values ? items.find((item) => !spec.values?.includes(item)) : undefined;
      if (bad !== undefined) throw invalid(key, value, `${bad} is not one of ${spec.values?.join(', ')}`);
      return items;
    }
    default:
      if (spec.values && !spec.values.includes(value)) {
        throw invalid(key, value, `not one of ${spec.values.join(', ')}`);
      }
      return value;
  }
}

export function parseBrokerConfig(props: Properties): BrokerConfig {
  const values = new Map<BrokerKey, string | number | boolean | string[]>();
  const given = new Map<BrokerKey, string>();
  const known = new Set<string>();
  for (const [key, spec] of configKeyRows) {
    known.add(key);
    let chosen: [string, number] | undefined;
    // Kafka's precedence: the most specific key (ms) wins over hours/minutes
    for (const [alias, factor] of spec.aliases ?? []) {
      known.add(alias);
      if (props.has(alias)) chosen = [alias, factor];
    }
    if (props.has(key)) chosen = [key, 1];
    if (chosen) given.set(key, chosen[0]);
    const raw = chosen ? (props.get(chosen[0]) as string) : spec.default;
    values.set(key, parseValue(chosen?.[0] ?? key, spec, raw, chosen?.[1] ?? 1));
  }
  const warnings = [...props.keys()].filter((k) => !known.has(k)).map((k) => unknownKeyWarning(k, known));
  checkRequestMemory(values);
  checkFailedAuthenticationDelay(values);
  const get = <T>(key: BrokerKey, type: string): T => {
    const v = values.get(key);
    // each key's type is fixed by its spec: asking for another is a bug in the caller
    assert(typeof v === type || (type === 'object' && Array.isArray(v)), `${key} is not a ${type}`);
    return v as T;
  };
  return {
    values,
    given,
    warnings,
    int: (key) => get<number>(key, 'number'),
    bool: (key) => get<boolean>(key, 'boolean'),
    string: (key) => get<string>(key, 'string'),
    list: (key) => get<string[]>(key, 'object'),
  };
}

/**
 * The request memory pool must be able to admit the largest frame
 * (Kafka: queued.max.request.bytes >= socket.request.max.bytes) beside the part
 * kept for small frames, or a large request could never be read.
 */
function checkRequestMemory(values: ReadonlyMap<BrokerKey, unknown>): void {
  const pool = values.get('queued.max.request.bytes') as number;
  const frame = values.get('socket.request.max.bytes') as number;
  const forLargeFrames = pool - Math.floor(pool / queuedRequestSmallReserveDivisor);
  if (frame > forLargeFrames) {
    const largeShare = (p: number): number => p - Math.floor(p / queuedRequestSmallReserveDivisor);
    let needed = Math.ceil((frame * queuedRequestSmallReserveDivisor) / (queuedRequestSmallReserveDivisor - 1));
    // the floor in the reserve can make a byte or two less enough (bounded: the divisor is a small constant)
    while (largeShare(needed - 1) >= frame) needed--;
    throw invalid(
      'queued.max.request.bytes',
      String(pool),
      `must hold socket.request.max.bytes (${frame}) beside the 1/${queuedRequestSmallReserveDivisor} kept for small requests: at least ${needed}`,
    );
  }
}

/**
 * Kafka's rule: connection.failed.authentication.delay.ms must be less than
 * connections.max.idle.ms, or the idle sweep would close a connection before its
 * delayed answer is written.
 */
function checkFailedAuthenticationDelay(values: ReadonlyMap<BrokerKey, unknown>): void {
  const delay = values.get('connection.failed.authentication.delay.ms') as number;
  const idle = values.get('connections.max.idle.ms') as number;
  if (delay >= idle) {
    throw invalid(
      'connection.failed.authentication.delay.ms',
      String(delay),
      `must be less than connections.max.idle.ms (${idle}), or failed authentications would time out instead of being answered`,
    );
  }
}

/** The storage settings a broker config implies for every log. */
export function logConfigOf(config: BrokerConfig): LogConfig {
  const int = (field: keyof LogConfig): number => config.int(brokerKeyOfLogField(field));
  return {
    segmentBytes: int('segmentBytes'),
    rollMs: int('rollMs'),
    retentionMs: int('retentionMs'),
    retentionBytes: int('retentionBytes'),
    indexIntervalBytes: int('indexIntervalBytes'),
    flushIntervalMessages: int('flushIntervalMessages'),
    flushIntervalMs: int('flushIntervalMs'),
    maxMessageBytes: int('maxMessageBytes'),
    producerIdExpirationMs: int('producerIdExpirationMs'),
    cleanupPolicy: config.list(brokerKeyOfLogField('cleanupPolicy')).join(','),
    deleteRetentionMs: int('deleteRetentionMs'),
    minCleanableDirtyRatio: int('minCleanableDirtyRatio'),
    minCompactionLagMs: int('minCompactionLagMs'),
    maxCompactionLagMs: int('maxCompactionLagMs'),
  };
}

/** The warning for an unknown key: ignored, with the nearest known key when it looks like a typo of one. */
export function unknownKeyWarning(key: string, known: Iterable<string>): string {
  const near = nearestName(key, known);
  return `unknown config key ${key} (ignored)${near === undefined ? '' : `: did you mean ${near}?`}`;
}
