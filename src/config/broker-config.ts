/**
 * The broker's configuration: Kafka's key names, Kafka's defaults where Kafka
 * has the key, checked against limits at start-up. Unknown keys are reported
 * as warnings; invalid values are errors that stop the broker from starting.
 */
import { assert } from '../shared/assert.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  connectionIdleMsDefault,
  connectionIdleMsMax,
  connectionIdleMsMin,
  connectionsMaxDefault,
  connectionsMaxMax,
  connectionsPerIpMaxDefault,
  frameReadTimeoutMsDefault,
  frameReadTimeoutMsMax,
  frameReadTimeoutMsMin,
  queuedRequestBytesDefault,
  queuedRequestBytesMax,
  queuedRequestBytesMin,
  queuedRequestSmallReserveDivisor,
  segmentBytesMax,
  segmentBytesMin,
} from '../shared/limits.js';
import type { LogConfig } from '../storage/log-config.js';
import type { Properties } from './properties.js';

type Kind = 'int' | 'bool' | 'string' | 'list';
interface KeySpec {
  kind: Kind;
  default: string;
  min?: number;
  max?: number;
  /** Older spellings that set the same value, with the factor to milliseconds. */
  aliases?: [string, number][];
}

const never = String(Number.MAX_SAFE_INTEGER);
const hour = 3_600_000;
const portMax = 65535;

export const brokerKeys = {
  'broker.id': { kind: 'int', default: '0', min: 0, max: 2 ** 31 - 1 },
  'host.name': { kind: 'string', default: '127.0.0.1' },
  port: { kind: 'int', default: '9092', min: 0, max: portMax },
  'log.dirs': { kind: 'list', default: './data', aliases: [['log.dir', 1]] },
  'num.partitions': { kind: 'int', default: '1', min: 1, max: 100_000 },
  'default.replication.factor': { kind: 'int', default: '1', min: 1, max: 100 },
  'log.segment.bytes': { kind: 'int', default: String(1024 ** 3), min: segmentBytesMin, max: segmentBytesMax },
  'log.roll.ms': { kind: 'int', default: String(168 * hour), min: 1, aliases: [['log.roll.hours', hour]] },
  'log.retention.ms': {
    kind: 'int',
    default: String(168 * hour),
    min: -1,
    aliases: [
      ['log.retention.minutes', 60_000],
      ['log.retention.hours', hour],
    ],
  },
  'log.retention.bytes': { kind: 'int', default: '-1', min: -1 },
  'log.retention.check.interval.ms': { kind: 'int', default: '300000', min: 1 },
  'log.index.interval.bytes': { kind: 'int', default: '4096', min: 1, max: 2 ** 31 - 1 },
  'log.flush.interval.messages': { kind: 'int', default: never, min: 1 },
  'log.flush.interval.ms': { kind: 'int', default: never, min: 1 },
  'message.max.bytes': { kind: 'int', default: String(1024 * 1024 + 12), min: 64, max: 64 * 1024 * 1024 },
  'zookeeper.connect': { kind: 'string', default: '' },
  'zookeeper.session.timeout.ms': { kind: 'int', default: '18000', min: 1000, max: 600_000 },
  'min.insync.replicas': { kind: 'int', default: '1', min: 1, max: 100 },
  'unclean.leader.election.enable': { kind: 'bool', default: 'false' },
  'replica.lag.time.max.ms': { kind: 'int', default: '30000', min: 1 },
  'auto.create.topics.enable': { kind: 'bool', default: 'true' },
  'zookeeper.connection.timeout.ms': { kind: 'int', default: '18000', min: 100, max: 600_000 },
  'auto.leader.rebalance.enable': { kind: 'bool', default: 'true' },
  'leader.imbalance.check.interval.seconds': { kind: 'int', default: '300', min: 1, max: 86_400 },
  'replica.fetch.wait.max.ms': { kind: 'int', default: '500', min: 0, max: 60_000 },
  'replica.fetch.max.bytes': { kind: 'int', default: String(1024 * 1024), min: 1024, max: 64 * 1024 * 1024 },
  'replica.fetch.backoff.ms': { kind: 'int', default: '1000', min: 0, max: 60_000 },
  'offsets.topic.replication.factor': { kind: 'int', default: '3', min: 1, max: 100 },
  'producer.id.expiration.ms': { kind: 'int', default: '86400000', min: 1000 },
  'socket.request.max.bytes': { kind: 'int', default: String(100 * 1024 * 1024), min: 1024, max: 2 ** 31 - 1 },
  /** Bytes of requests being received or awaiting their answer, over all connections (Kafka's is unbounded by default). */
  'queued.max.request.bytes': {
    kind: 'int',
    default: String(queuedRequestBytesDefault),
    min: queuedRequestBytesMin,
    max: queuedRequestBytesMax,
  },
  /** A frame must arrive whole within this long of its first byte, or its connection is closed. */
  'socket.request.read.timeout.ms': {
    kind: 'int',
    default: String(frameReadTimeoutMsDefault),
    min: frameReadTimeoutMsMin,
    max: frameReadTimeoutMsMax,
  },
  'connections.max.idle.ms': {
    kind: 'int',
    default: String(connectionIdleMsDefault),
    min: connectionIdleMsMin,
    max: connectionIdleMsMax,
  },
  'max.connections': { kind: 'int', default: String(connectionsMaxDefault), min: 1, max: connectionsMaxMax },
  'max.connections.per.ip': {
    kind: 'int',
    default: String(connectionsPerIpMaxDefault),
    min: 1,
    max: connectionsMaxMax,
  },
  /** The Kafka-protocol listener (Kafka clients: kcat, kafkajs, librdkafka); -1 = off, 0 = any free port. */
  'kafka.port': { kind: 'int', default: '-1', min: -1, max: portMax },
  'http.port': { kind: 'int', default: '8161', min: 0, max: portMax },
  'http.host': { kind: 'string', default: '127.0.0.1' },
  'http.users.file': { kind: 'string', default: 'config/users.properties' },
  /** Reverse proxies whose X-Forwarded-For names the client (addresses, CIDR blocks, loopback); empty: none. */
  'http.trusted.proxies': { kind: 'string', default: '' },
  'queue.max.redeliveries': { kind: 'int', default: '6', min: -1, max: 1_000_000 },
  'queue.lock.timeout.ms': { kind: 'int', default: '30000', min: 100, max: 86_400_000 },
  'queue.redelivery.delay.ms': { kind: 'int', default: '0', min: 0, max: 86_400_000 },
  'queue.redelivery.backoff.multiplier': { kind: 'int', default: '1', min: 1, max: 100 },
  'queue.redelivery.delay.max.ms': { kind: 'int', default: '60000', min: 0, max: 86_400_000 },
  'queue.dead.letter.queue': { kind: 'string', default: '' },
  'queue.expired.messages.dlq': { kind: 'bool', default: 'false' },
  'queue.replication.factor': { kind: 'int', default: '3', min: 1, max: 100 },
  'group.initial.rebalance.delay.ms': { kind: 'int', default: '3000', min: 0, max: 300_000 },
  /** pino level (trace, debug, info, warn, error, fatal, silent); empty: SLUICE_LOG_LEVEL or info. */
  'log.level': { kind: 'string', default: '' },
} satisfies Record<string, KeySpec>;

export type BrokerKey = keyof typeof brokerKeys;

export interface BrokerConfig {
  values: ReadonlyMap<BrokerKey, string | number | boolean | string[]>;
  warnings: string[];
  int(key: BrokerKey): number;
  bool(key: BrokerKey): boolean;
  string(key: BrokerKey): string;
  list(key: BrokerKey): string[];
}

function invalid(key: string, value: string, why: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidConfig, `invalid value "${value}" for ${key}: ${why}`);
}

function parseValue(key: string, spec: KeySpec, raw: string, factor = 1): string | number | boolean | string[] {
  const value = raw.trim();
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(value)) throw invalid(key, value, 'not an integer');
      const n = Math.min(Number(value) * factor, Number.MAX_SAFE_INTEGER);
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
      return items;
    }
    default:
      return value;
  }
}

export function parseBrokerConfig(props: Properties): BrokerConfig {
  const values = new Map<BrokerKey, string | number | boolean | string[]>();
  const known = new Set<string>();
  for (const [key, spec] of Object.entries(brokerKeys) as [BrokerKey, KeySpec][]) {
    known.add(key);
    let chosen: [string, number] | undefined;
    // Kafka's precedence: the most specific key (ms) wins over hours/minutes
    for (const [alias, factor] of spec.aliases ?? []) {
      known.add(alias);
      if (props.has(alias)) chosen = [alias, factor];
    }
    if (props.has(key)) chosen = [key, 1];
    const raw = chosen ? (props.get(chosen[0]) as string) : spec.default;
    values.set(key, parseValue(chosen?.[0] ?? key, spec, raw, chosen?.[1] ?? 1));
  }
  const warnings = [...props.keys()].filter((k) => !known.has(k)).map((k) => `unknown config key ${k} (ignored)`);
  checkRequestMemory(values);
  const get = <T>(key: BrokerKey, type: string): T => {
    const v = values.get(key);
    // each key's type is fixed by its spec: asking for another is a bug in the caller
    assert(typeof v === type || (type === 'object' && Array.isArray(v)), `${key} is not a ${type}`);
    return v as T;
  };
  return {
    values,
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

/** The storage settings a broker config implies for every log. */
export function logConfigOf(config: BrokerConfig): LogConfig {
  return {
    segmentBytes: config.int('log.segment.bytes'),
    rollMs: config.int('log.roll.ms'),
    retentionMs: config.int('log.retention.ms'),
    retentionBytes: config.int('log.retention.bytes'),
    indexIntervalBytes: config.int('log.index.interval.bytes'),
    flushIntervalMessages: config.int('log.flush.interval.messages'),
    flushIntervalMs: config.int('log.flush.interval.ms'),
    maxMessageBytes: config.int('message.max.bytes'),
    producerIdExpirationMs: config.int('producer.id.expiration.ms'),
  };
}
