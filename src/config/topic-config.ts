/**
 * Topic-level configuration overrides with Kafka's topic key names (the
 * `topic` column of config-keys.ts), checked against the bounds of the broker
 * key each overrides. Unknown keys and bad values are InvalidConfig.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { LogConfig } from '../storage/log-config.js';
import { type ConfigKeySpec, topicKeyRows } from './config-keys.js';

export const topicConfigKeys: readonly string[] = topicKeyRows.map((row) => row.topic);

const topicKeys: ReadonlyMap<string, ConfigKeySpec> = new Map(topicKeyRows.map((row) => [row.topic, row.spec]));

/** The topic's min.insync.replicas when it overrides the broker's. */
export function topicMinInsyncReplicas(configs: Record<string, string>): number | undefined {
  const raw = configs['min.insync.replicas'];
  return raw === undefined ? undefined : Number(raw);
}

/** An int's inclusive bounds; none stated: the safe integers from the row's minimum. */
function boundsOf(spec: ConfigKeySpec): [number, number] {
  return [spec.min ?? Number.MIN_SAFE_INTEGER, spec.max ?? Number.MAX_SAFE_INTEGER];
}

function fits(spec: ConfigKeySpec, value: string): boolean {
  if (spec.kind === 'bool') return value === 'true' || value === 'false';
  if (spec.kind === 'list' || spec.kind === 'string') {
    const items = spec.kind === 'list' ? value.split(',').map((s) => s.trim()) : [value];
    return items.length > 0 && items.every((item) => item !== '' && (spec.choices?.includes(item) ?? true));
  }
  const [min, max] = boundsOf(spec);
  const n = Number(value);
  if (spec.kind === 'double') return value !== '' && Number.isFinite(n) && n >= min && n <= max;
  return /^-?\d+$/.test(value) && n >= min && n <= max;
}

/** What a value must be, for an error message. */
function expected(spec: ConfigKeySpec): string {
  const [min, max] = boundsOf(spec);
  if (spec.kind === 'list') return `a comma-separated list of ${spec.choices?.join(', ') ?? 'values'}`;
  if (spec.kind === 'double') return `a number in [${min}, ${max}]`;
  return `an integer in [${min}, ${max}]`;
}

/**
 * The log settings a topic's configs override. Every key is checked; keys that
 * are not log settings (min.insync.replicas, unclean.leader.election.enable) are
 * read from the topic's configs by the replication layer and the controller.
 */
export function topicLogOverrides(configs: Record<string, string>): Partial<LogConfig> {
  const out: Partial<LogConfig> = {};
  for (const [key, raw] of Object.entries(configs)) {
    const spec = topicKeys.get(key);
    if (!spec) {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `unknown topic config ${key} (known: ${topicConfigKeys.join(', ')})`,
      );
    }
    const value = String(raw).trim();
    if (spec.log === undefined) {
      if (!fits(spec, value)) throw new SluiceError(ErrorCode.InvalidConfig, `invalid value "${raw}" for ${key}`);
      continue;
    }
    if (!fits(spec, value)) {
      throw new SluiceError(ErrorCode.InvalidConfig, `invalid value "${raw}" for ${key}: ${expected(spec)}`);
    }
    if (spec.kind === 'list' || spec.kind === 'string') (out as Record<string, unknown>)[spec.log] = value;
    else (out as Record<string, unknown>)[spec.log] = Number(value);
  }
  return out;
}
