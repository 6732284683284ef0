/** API keys of the native protocol: Kafka's numbers, so both listeners share handlers. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  DescribeAcls: 29,
  CreateAcls: 30,
  DeleteAcls: 31,
  DescribeConfigs: 32,
  DescribeLogDirs: 35,
  AlterConfigs: 33,
  CreatePartitions: 37,
  DeleteGroups: 42,
  AlterPartitionReassignments: 45,
  ListPartitionReassignments: 46,
  IncrementalAlterConfigs: 44,
  // transactions (issue 21), see transaction-messages.ts
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  WriteTxnMarkers: 27,
  TxnOffsetCommit: 28,
  DescribeTransactions: 65,
  ListTransactions: 66,
  // between brokers only (issue 18): "does ZooKeeper still hold my registration?" (Kafka's number for
  // its broker-to-controller heartbeat; never served on the Kafka listener)
  BrokerHeartbeat: 63,
  // SASL and SCRAM credentials (issue 17), see security-messages.ts
  SaslHandshake: 17,
  SaslAuthenticate: 36,
  DescribeUserScramCredentials: 50,
  AlterUserScramCredentials: 51,
  // client quotas (issue 17), see quota-messages.ts
  DescribeClientQuotas: 48,
  AlterClientQuotas: 49,
  // Sluice's own APIs (outside Kafka's range): JMS-style queues, see queue-messages.ts
  QueueSend: 1000,
  QueueFetch: 1001,
  QueueAck: 1002,
  QueueLeave: 1003,
  QueueAdmin: 1004,
} as const;

export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

/** Built once: the broker names every request's API (metrics, logs), and a search of ApiKey's entries per request allocated ~2.5 KB each time. */
const apiNames = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));

export function apiName(key: number): string {
  return apiNames.get(key) ?? `api ${key}`;
}
