/**
 * Kafka's ZooKeeper layout and JSON values, so `zkCli.sh` and ZooInspector
 * show the same readable tree a Kafka cluster has:
 *
 *   /brokers/ids/<id>                            ephemeral {"version":5,"host","port","endpoints":[...],"jmx_port":-1,"timestamp"}
 *   /brokers/topics/<t>                          {"version":3,"partitions":{"0":[1,2,3]},"topic_id":"<22 chars>"} (topic-znode.ts)
 *                                                (+ "adding_replicas","removing_replicas" while reassigning, KIP-455)
 *   /brokers/topics/<t>/partitions/<p>/state     {"controller_epoch","leader","version":1,"leader_epoch","isr":[...]}
 *   /config/topics/<t>                           {"version":1,"config":{...}}
 *   /config/changes/config_change_<seq>          {"version":2,"entity_path":"topics/<t>"} (a topic's configs changed)
 *   /controller                                  ephemeral {"version":1,"brokerid","timestamp"}
 *   /controller_epoch                            "N"
 *   /admin/delete_topics/<t>                     (empty; the controller deletes the topic)
 *   /cluster/id                                  {"version":"1","id"} (cluster-id-znode.ts)
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';

export const brokerIdsPath = '/brokers/ids';
export const brokerTopicsPath = '/brokers/topics';
export const configTopicsPath = '/config/topics';
export const controllerPath = '/controller';
export const controllerEpochPath = '/controller_epoch';
export const deleteTopicsPath = '/admin/delete_topics';
export const configChangesPath = '/config/changes';
/** A config change notification's name before ZooKeeper's sequence number (Kafka's). */
export const configChangePrefix = 'config_change_';

/**
 * Controlled shutdown (issue 18): a broker about to stop creates the ephemeral
 * /sluice/controlled_shutdown/<id>; the controller watches the children and
 * moves that broker's leaderships and ISR memberships away.
 */
export const controlledShutdownPath = '/sluice/controlled_shutdown';
export const controlledShutdownBrokerPath = (id: number): string => `${controlledShutdownPath}/${id}`;

/**
 * A leader that found corrupt records in its log (issue 18) creates the ephemeral
 * /sluice/leader_handover/<topic>:<partition>:<id> (':' is in no topic name); the controller
 * watches the children, moves that partition's leadership and the broker's ISR membership away
 * (as for a controlled shutdown, for the one partition), then deletes the request.
 */
export const leaderHandoverPath = '/sluice/leader_handover';
export const leaderHandoverRequestPath = (topic: string, partition: number, id: number): string =>
  `${leaderHandoverPath}/${topic}:${partition}:${id}`;

/** A handover request's topic, partition and broker, from its znode name; undefined when malformed. */
export function parseLeaderHandover(name: string): { topic: string; partition: number; broker: number } | undefined {
  const m = /^(.+):(\d+):(\d+)$/.exec(name);
  if (!m) return undefined;
  return { topic: m[1] as string, partition: Number(m[2]), broker: Number(m[3]) };
}

/** Persistent parents every broker makes sure of at start-up. */
export const persistentPaths = [
  brokerIdsPath,
  brokerTopicsPath,
  configTopicsPath,
  deleteTopicsPath,
  configChangesPath,
  controlledShutdownPath,
  leaderHandoverPath,
];

export const brokerPath = (id: number): string => `${brokerIdsPath}/${id}`;
export const topicPath = (topic: string): string => `${brokerTopicsPath}/${topic}`;
export const partitionsPath = (topic: string): string => `${topicPath(topic)}/partitions`;
export const partitionPath = (topic: string, partition: number): string => `${partitionsPath(topic)}/${partition}`;
export const partitionStatePath = (topic: string, partition: number): string =>
  `${partitionPath(topic, partition)}/state`;
export const topicConfigPath = (topic: string): string => `${configTopicsPath}/${topic}`;
export const deleteTopicPath = (topic: string): string => `${deleteTopicsPath}/${topic}`;

export interface BrokerRegistration {
  version: 5;
  host: string;
  port: number;
  endpoints: string[];
  jmx_port: number;
  timestamp: string;
  /** Sluice's HTTP API port (not in Kafka's schema; extra fields are ignored by Kafka tools). */
  http_port?: number;
  /** Sluice's Kafka-protocol listener (also in endpoints as KAFKA://host:port). */
  kafka_port?: number;
}

export interface TopicAssignment {
  version: 2 | 3;
  partitions: Record<string, number[]>;
  /** Kafka 2.8+ (version 3): the topic's id, see topic-znode.ts. */
  topic_id?: string;
  /** KIP-455: per partition under reassignment, the replicas being added (reassignment.ts). */
  adding_replicas?: Record<string, number[]>;
  /** KIP-455: per partition under reassignment, the replicas being removed. */
  removing_replicas?: Record<string, number[]>;
  /**
   * Sluice's own (Kafka tools ignore it): per partition under reassignment,
   * the bytes/s its adding replicas may fetch at (`--throttle`); goes with
   * the reassignment.
   */
  sluice_throttle_bytes_per_sec?: Record<string, number>;
}

export interface PartitionStateZnode {
  controller_epoch: number;
  leader: number;
  version: 1;
  leader_epoch: number;
  isr: number[];
}

export interface TopicConfigZnode {
  version: 1;
  config: Record<string, string>;
}

/** Kafka's config change notification (version 2: the changed entity's path under /config). */
export interface ConfigChangeZnode {
  version: 2;
  entity_path: string;
}

export const topicConfigChange = (topic: string): ConfigChangeZnode => ({ version: 2, entity_path: `topics/${topic}` });

/** The topic a config change notification names, or undefined for another entity (a broker, a client). */
export function topicOfConfigChange(path: string, data: string): string | undefined {
  const znode = parseZnode<ConfigChangeZnode>(path, data, (v) => typeof v.entity_path === 'string');
  const match = /^topics\/(.+)$/.exec(znode.entity_path);
  return match?.[1];
}

export interface ControllerZnode {
  version: 1;
  brokerid: number;
  timestamp: string;
}

export function brokerRegistration(
  host: string,
  port: number,
  httpPort?: number,
  kafkaPort?: number,
): BrokerRegistration {
  const reg: BrokerRegistration = {
    version: 5,
    host,
    port,
    endpoints: [`PLAINTEXT://${host}:${port}`],
    jmx_port: -1,
    timestamp: String(Date.now()),
  };
  if (httpPort !== undefined) reg.http_port = httpPort;
  if (kafkaPort !== undefined && kafkaPort > 0) {
    reg.kafka_port = kafkaPort;
    reg.endpoints.push(`KAFKA://${host}:${kafkaPort}`);
  }
  return reg;
}

export function controllerZnode(brokerId: number): ControllerZnode {
  return { version: 1, brokerid: brokerId, timestamp: String(Date.now()) };
}

/** Parses a znode's JSON, naming the path when it is not JSON of the expected shape. */
export function parseZnode<T>(path: string, data: string, check: (v: Record<string, unknown>) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (err) {
    throw new SluiceError(ErrorCode.InvalidConfig, `znode ${path} does not hold JSON: ${data.slice(0, 100)}`, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || !check(value as Record<string, unknown>)) {
    throw new SluiceError(ErrorCode.InvalidConfig, `znode ${path} holds unexpected JSON: ${data.slice(0, 100)}`);
  }
  return value as T;
}

export const parseBroker = (path: string, data: string): BrokerRegistration =>
  parseZnode(path, data, (v) => typeof v.host === 'string' && typeof v.port === 'number');
export const parseAssignment = (path: string, data: string): TopicAssignment =>
  parseZnode(path, data, (v) => typeof v.partitions === 'object' && v.partitions !== null);
export const parsePartitionState = (path: string, data: string): PartitionStateZnode =>
  parseZnode(
    path,
    data,
    (v) => typeof v.leader === 'number' && typeof v.leader_epoch === 'number' && Array.isArray(v.isr),
  );
export const parseTopicConfig = (path: string, data: string): TopicConfigZnode =>
  parseZnode(path, data, (v) => typeof v.config === 'object' && v.config !== null);
export const parseController = (path: string, data: string): ControllerZnode =>
  parseZnode(path, data, (v) => typeof v.brokerid === 'number');
