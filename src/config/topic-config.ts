/**
 * Topic-level configuration overrides with Kafka's topic key names, mapped onto
 * the log settings they change. Unknown keys and bad values are InvalidConfig.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { segmentBytesMax, segmentBytesMin } from '../shared/limits.js';
import type { LogConfig } from '../storage/log-config.js';

const topicKeys: Record<string, { field: keyof LogConfig; min: number; max: number }> = {
  'segment.bytes': { field: 'segmentBytes', min: segmentBytesMin, max: segmentBytesMax },
  'segment.ms': { field: 'rollMs', min: 1, max: Number.MAX_SAFE_INTEGER },
  'retention.ms': { field: 'retentionMs', min: -1, max: Number.MAX_SAFE_INTEGER },
  'retention.bytes': { field: 'retentionBytes', min: -1, max: Number.MAX_SAFE_INTEGER },
  'index.interval.bytes': { field: 'indexIntervalBytes', min: 1, max: 2 ** 31 - 1 },
  'flush.messages': { field: 'flushIntervalMessages', min: 1, max: Number.MAX_SAFE_INTEGER },
  'flush.ms': { field: 'flushIntervalMs', min: 1, max: Number.MAX_SAFE_INTEGER },
  'max.message.bytes': { field: 'maxMessageBytes', min: 64, max: 64 * 1024 * 1024 },
};

/**
 * Topic keys that are not log settings: the replication layer and the
 * controller read them from the topic's configs (validated here all the same).
 */
const replicationKeys: Record<string, (value: string) => boolean> = {
  'min.insync.replicas': (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100,
  'unclean.leader.election.enable': (v) => v === 'true' || v === 'false',
};

export const topicConfigKeys = [...Object.keys(topicKeys), ...Object.keys(replicationKeys)];

/** The topic's min.insync.replicas when it overrides the broker's. */
export function topicMinInsyncReplicas(configs: Record<string, string>): number | undefined {
  const raw = configs['min.insync.replicas'];
  return raw === undefined ? undefined : Number(raw);
}

export function topicLogOverrides(configs: Record<string, string>): Partial<LogConfig> {
  const out: Partial<LogConfig> = {};
  for (const [key, raw] of Object.entries(configs)) {
    const replicationCheck = replicationKeys[key];
    if (replicationCheck) {
      if (!replicationCheck(String(raw).trim())) {
        throw new SluiceError(ErrorCode.InvalidConfig, `invalid value "${raw}" for ${key}`);
      }
      continue;
    }
    const spec = topicKeys[key];
    if (!spec) {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `unknown topic config ${key} (known: ${topicConfigKeys.join(', ')})`,
      );
    }
    const value = String(raw).trim();
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < spec.min || n > spec.max) {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        `invalid value "${raw}" for ${key}: an integer in [${spec.min}, ${spec.max}]`,
      );
    }
    out[spec.field] = n;
  }
  return out;
}
