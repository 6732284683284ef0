/**
 * Topic metadata, leadership and topic configuration, behind one interface.
 * The standalone implementation keeps them in the broker's LevelDB; the
 * ZooKeeper-backed cluster implements the same interface, so request handling
 * never knows which one it talks to.
 */
export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level overrides with Kafka's topic key names (retention.ms, segment.bytes, ...). */
  configs: Record<string, string>;
}

export interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface Coordinator {
  readonly brokerId: number;
  start(): Promise<void>;
  close(): Promise<void>;
  brokers(): BrokerEndpoint[];
  controllerId(): number;
  topics(): TopicSpec[];
  topic(name: string): TopicSpec | undefined;
  partitionState(topic: string, partition: number): PartitionState | undefined;
  /** Throws SluiceError TopicExists / InvalidPartitions / InvalidReplicationFactor. */
  createTopic(spec: TopicSpec): Promise<void>;
  /** Throws SluiceError UnknownPartition when the topic does not exist. */
  deleteTopic(name: string): Promise<void>;
}
