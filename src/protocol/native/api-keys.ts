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
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  DescribeConfigs: 32,
  DeleteGroups: 42,
  // Sluice's own APIs (outside Kafka's range): JMS-style queues, see queue-messages.ts
  QueueSend: 1000,
  QueueFetch: 1001,
  QueueAck: 1002,
  QueueLeave: 1003,
  QueueAdmin: 1004,
} as const;

export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

/** Versions this build speaks, per API. Version 0 is the first native version of each. */
export const supportedVersions: Record<ApiKey, { min: number; max: number }> = {
  [ApiKey.Produce]: { min: 0, max: 0 },
  [ApiKey.Fetch]: { min: 0, max: 0 },
  [ApiKey.ListOffsets]: { min: 0, max: 0 },
  [ApiKey.Metadata]: { min: 0, max: 0 },
  [ApiKey.ApiVersions]: { min: 0, max: 0 },
  [ApiKey.CreateTopics]: { min: 0, max: 0 },
  [ApiKey.DeleteTopics]: { min: 0, max: 0 },
  [ApiKey.OffsetCommit]: { min: 0, max: 0 },
  [ApiKey.OffsetFetch]: { min: 0, max: 0 },
  [ApiKey.FindCoordinator]: { min: 0, max: 0 },
  [ApiKey.JoinGroup]: { min: 0, max: 0 },
  [ApiKey.Heartbeat]: { min: 0, max: 0 },
  [ApiKey.LeaveGroup]: { min: 0, max: 0 },
  [ApiKey.SyncGroup]: { min: 0, max: 0 },
  [ApiKey.DescribeGroups]: { min: 0, max: 0 },
  [ApiKey.ListGroups]: { min: 0, max: 0 },
  [ApiKey.InitProducerId]: { min: 0, max: 0 },
  [ApiKey.OffsetForLeaderEpoch]: { min: 0, max: 0 },
  [ApiKey.DescribeConfigs]: { min: 0, max: 0 },
  [ApiKey.DeleteGroups]: { min: 0, max: 0 },
  [ApiKey.QueueSend]: { min: 0, max: 0 },
  [ApiKey.QueueFetch]: { min: 0, max: 0 },
  [ApiKey.QueueAck]: { min: 0, max: 0 },
  [ApiKey.QueueLeave]: { min: 0, max: 0 },
  [ApiKey.QueueAdmin]: { min: 0, max: 0 },
};

export function apiName(key: number): string {
  return Object.entries(ApiKey).find(([, v]) => v === key)?.[0] ?? `api ${key}`;
}
