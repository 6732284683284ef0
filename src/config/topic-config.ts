/**
 * Topic-level configuration overrides with Kafka's topic key names (the
 * `topic` column of config-keys.ts), checked against the bounds (or the
 * allowed values) of the broker key each overrides. Unknown keys and bad
 * values are InvalidConfig. Also the edits AlterConfigs and
 * IncrementalAlterConfigs (KIP-339) make to a topic's overrides.
 */

import { ErrorCode, SluiceError } from '../shared/errors.js';
import { nearestName } from '../shared/nearest.js';
import type { LogConfig } from '../storage/log-config.js';
import type { BrokerConfig } from './broker-config.js';
import { type BrokerKey, type ConfigKeySpec, topicKeyRows } from './config-keys.js';

export const topicConfigKeys: readonly string[] = topicKeyRows.map((row) => row.topic);

const topicKeys: ReadonlyMap<string, ConfigKeySpec> = new Map(topicKeyRows.map((row) => [row.topic, row.spec]));
const brokerKeyOfTopicKey: ReadonlyMap<string, BrokerKey> = new Map(topicKeyRows.map((row) => [row.topic, row.broker]));

/** The topic's min.insync.replicas when it overrides the broker's. */
export function topicMinInsyncReplicas(configs: Record<string, string>): number | undefined {
  const raw = configs['min.insync.replicas'];
  return raw === undefined ? undefined : Number(raw);
}

/** An int's inclusive bounds; none stated: the safe integers from the row's minimum. */
function boundsOf(spec: ConfigKeySpec): [number, number] {
  return [spec.min ?? Number.MIN_SAFE_INTEGER, spec.max ?? Number.MAX_SAFE_INTEGER];
}

const listItems = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function fits(spec: ConfigKeySpec, value: string): boolean {
  if (spec.kind === 'bool') return value === 'true' || value === 'false';
  if (spec.kind === 'list') {
    const items = listItems(value);
    return items.length > 0 && (spec.values === undefined || items.every((item) => spec.values?.includes(item)));
  }
  if (spec.kind === 'string') return spec.values === undefined || spec.values.includes(value);
  const [min, max] = boundsOf(spec);
  const n = Number(value);
  if (spec.kind === 'double') return value !== '' && Number.isFinite(n) && n >= min && n <= max;
  return /^-?\d+$/.test(value) && n >= min && n <= max;
}

function unknownKey(key: string): SluiceError {
  const near = nearestName(key, topicConfigKeys);
  const hint = near === undefined ? '' : `: did you mean ${near}?`;
  return new SluiceError(
    ErrorCode.InvalidConfig,
    `unknown topic config ${key} (known: ${topicConfigKeys.join(', ')})${hint}`,
  );
}

/** The row of a topic key; an unknown key is refused by name with the list of known ones. */
function specOf(key: string): ConfigKeySpec {
  const spec = topicKeys.get(key);
  if (!spec) throw unknownKey(key);
  return spec;
}

/** Checks one override; throws InvalidConfig naming the key and what it takes. */
export function checkTopicConfig(key: string, raw: string): void {
  const spec = specOf(key);
  const value = String(raw).trim();
  if (fits(spec, value)) return;
  if ((spec.kind === 'int' || spec.kind === 'double') && spec.log !== undefined) {
    const [min, max] = boundsOf(spec);
    const what = spec.kind === 'int' ? 'an integer' : 'a number';
    throw new SluiceError(ErrorCode.InvalidConfig, `invalid value "${raw}" for ${key}: ${what} in [${min}, ${max}]`);
  }
  if (spec.values !== undefined) {
    const what = spec.kind === 'list' ? 'a list of' : 'one of';
    throw new SluiceError(
      ErrorCode.InvalidConfig,
      `invalid value "${raw}" for ${key}: ${what} ${spec.values.join(', ')}`,
    );
  }
  throw new SluiceError(ErrorCode.InvalidConfig, `invalid value "${raw}" for ${key}`);
}

/**
 * The log settings a topic's configs override. Every key is checked; keys that
 * are not log settings (min.insync.replicas, unclean.leader.election.enable,
 * message.timestamp.*) are read from the topic's configs by the replication
 * layer and the controller.
 */
export function topicLogOverrides(configs: Record<string, string>): Partial<LogConfig> {
  const out: Partial<LogConfig> = {};
  for (const [key, raw] of Object.entries(configs)) {
    checkTopicConfig(key, raw);
    const spec = specOf(key);
    if (spec.log === undefined) continue;
    const value = String(raw).trim();
    // list and string keys (cleanup.policy) keep their text; int and double keys are numbers
    (out as Record<string, unknown>)[spec.log] = spec.kind === 'list' || spec.kind === 'string' ? value : Number(value);
  }
  return out;
}

/** The value a topic has for `key`: its override, else the broker's (Kafka's fallback). */
export function effectiveTopicConfig(configs: Record<string, string>, key: string, broker: BrokerConfig): string {
  const own = configs[key];
  if (own !== undefined) return own;
  const brokerKey = brokerKeyOfTopicKey.get(key);
  if (brokerKey === undefined) throw unknownKey(key);
  const value = broker.values.get(brokerKey);
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Kafka's AlterConfigOp types (IncrementalAlterConfigs, KIP-339). */
export const AlterConfigOp = { Set: 0, Delete: 1, Append: 2, Subtract: 3 } as const;
export type AlterConfigOp = (typeof AlterConfigOp)[keyof typeof AlterConfigOp];

export interface ConfigAlteration {
  name: string;
  /** An AlterConfigOp as the request gave it: any other number is refused by topicConfigChanges. */
  op: number;
  /** The value to set, or the list items to append or subtract (comma-separated); null for DELETE. */
  value: string | null;
}

/**
 * What the alterations do to a topic's overrides: key → new value, or null
 * to drop the override (back to the broker's). Checks every key and value
 * first, so nothing changes when one is bad. APPEND and SUBTRACT work on list
 * keys (cleanup.policy) only, as in Kafka, starting from the topic's current
 * value (the broker's when not overridden); a key named twice is refused.
 */
export function topicConfigChanges(
  current: Record<string, string>,
  alterations: readonly ConfigAlteration[],
  broker: BrokerConfig,
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const { name, op, value } of alterations) {
    const spec = specOf(name);
    if (Object.hasOwn(changes, name)) {
      throw new SluiceError(ErrorCode.InvalidRequest, `config ${name} is named more than once`);
    }
    if (op === AlterConfigOp.Delete) {
      changes[name] = null;
      continue;
    }
    if (value === null) throw new SluiceError(ErrorCode.InvalidConfig, `a null value for ${name}`);
    if (op === AlterConfigOp.Set) {
      checkTopicConfig(name, value);
      changes[name] = value.trim();
      continue;
    }
    if (op !== AlterConfigOp.Append && op !== AlterConfigOp.Subtract) {
      throw new SluiceError(ErrorCode.InvalidRequest, `unknown config operation ${op} for ${name}`);
    }
    if (spec.kind !== 'list') {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `${op === AlterConfigOp.Append ? 'APPEND' : 'SUBTRACT'} applies to list configs only, not ${name}`,
      );
    }
    const items = listItems(effectiveTopicConfig(current, name, broker));
    const given = listItems(value);
    const next =
      op === AlterConfigOp.Append
        ? [...items, ...given.filter((item) => !items.includes(item))]
        : items.filter((item) => !given.includes(item));
    const joined = next.join(',');
    // an empty list is no valid cleanup.policy: refused like any bad value
    checkTopicConfig(name, joined);
    changes[name] = joined;
  }
  return changes;
}

/** The overrides after `changes` (null: removed). */
export function applyTopicConfigChanges(
  current: Record<string, string>,
  changes: Record<string, string | null>,
): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}
