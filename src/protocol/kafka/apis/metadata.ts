/**
 * Metadata (key 3), v0-v12: brokers with their Kafka listener, the controller,
 * and every requested topic's partitions with leader, epoch, replicas and ISR.
 * Brokers without a Kafka listener are left out (a Kafka client could not
 * reach them). v0 asks for every topic with an empty list, v1+ with null.
 * v9+ is flexible (KIP-482); v10+ carries topic ids (the zero UUID when a
 * topic has none); v11 drops the cluster authorized operations.
 */

import { isInternalTopic } from '../../../shared/internal-topics.js';
import {
  array,
  bool,
  field,
  type Infer,
  int16,
  int32,
  nullableArray,
  nullableString,
  string,
  struct,
  uuid,
  zeroUuid,
} from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import type { TopicMetadata } from '../../native/messages.js';
import { errorOf, kafkaApi } from '../api.js';

const noOperations = -2147483648;

const request = struct({
  topics: field(nullableArray(struct({ topicId: field(uuid, zeroUuid, 10), name: field(nullableString, '') })), null),
  allowAutoTopicCreation: field(bool, true, 4),
  includeClusterAuthorizedOperations: field(bool, false, 8, 10),
  includeTopicAuthorizedOperations: field(bool, false, 8),
});

const partition = struct({
  errorCode: field(int16, 0),
  partitionIndex: field(int32, 0),
  leaderId: field(int32, -1),
  leaderEpoch: field(int32, -1, 7),
  replicaNodes: field(array(int32), []),
  isrNodes: field(array(int32), []),
  offlineReplicas: field(array(int32), [], 5),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 3),
  brokers: field(
    array(
      struct({
        nodeId: field(int32, 0),
        host: field(string, ''),
        port: field(int32, 0),
        rack: field(nullableString, null, 1),
      }),
    ),
    [],
  ),
  clusterId: field(nullableString, null, 2),
  controllerId: field(int32, -1, 1),
  topics: field(
    array(
      struct({
        errorCode: field(int16, 0),
        name: field(nullableString, ''),
        topicId: field(uuid, zeroUuid, 10),
        isInternal: field(bool, false, 1),
        partitions: field(array(partition), []),
        topicAuthorizedOperations: field(int32, noOperations, 8),
      }),
    ),
    [],
  ),
  clusterAuthorizedOperations: field(int32, noOperations, 8, 10),
});

type Request = Infer<typeof request>;
type Topic = Infer<typeof response>['topics'][number];

/**
 * How a request names its topics: by name (every version), or (v12+) by
 * topic id, when any topic comes with a null name. Kafka then looks every
 * topic up by id and ignores names; before v12 a null name or an id is an
 * invalid request (Kafka's KafkaApis says the same).
 */
function lookup(req: Request, version: number): 'names' | 'ids' | 'invalid' {
  const byId = (req.topics ?? []).some((t) => t.name === null || t.topicId !== zeroUuid);
  if (!byId) return 'names';
  return version >= 12 ? 'ids' : 'invalid';
}

/** A topic entry with no partitions: an error for a requested topic. */
function refused(errorCode: number, name: string | null, topicId: string): Topic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: noOperations };
}

function topicOf(t: TopicMetadata): Topic {
  return {
    errorCode: t.errorCode,
    name: t.name,
    topicId: t.topicId ?? zeroUuid,
    isInternal: isInternalTopic(t.name),
    partitions: t.partitions.map((p) => ({
      errorCode: p.errorCode,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: t.authorizedOperations ?? noOperations,
  };
}

/** The topics answered to a lookup by id: every known one, UNKNOWN_TOPIC_ID for the rest. */
function byIds(req: Request, topics: TopicMetadata[]): Topic[] {
  const known = new Map<string, TopicMetadata>();
  for (const t of topics) if (t.topicId !== undefined) known.set(t.topicId, t);
  const ids = [...new Set((req.topics ?? []).map((t) => t.topicId).filter((id) => id !== zeroUuid))];
  return ids.map((id) => {
    const t = known.get(id);
    return t ? topicOf(t) : refused(WireError.UNKNOWN_TOPIC_ID, null, id);
  });
}

export const metadataApi = kafkaApi({
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  flexibleFrom: 9,
  request,
  response,
  toNative: (req, version) => {
    const how = lookup(req, version);
    // by id: every topic, matched by id in fromNative (no topic is created for an id)
    if (how === 'ids') return { topics: null, allowAutoTopicCreation: false };
    if (how === 'invalid') return { topics: [], allowAutoTopicCreation: false };
    const names = req.topics?.map((t) => t.name ?? '') ?? null;
    return {
      topics: version === 0 && names?.length === 0 ? null : names,
      allowAutoTopicCreation: req.allowAutoTopicCreation,
      // KIP-430 (v8+): asked for only when the client asks
      ...(req.includeTopicAuthorizedOperations ? { includeTopicAuthorizedOperations: true } : {}),
      ...(req.includeClusterAuthorizedOperations ? { includeClusterAuthorizedOperations: true } : {}),
    };
  },
  fromNative: (result, req, version) => {
    const { errorCode } = errorOf(result);
    const how = lookup(req, version);
    const requested = req.topics ?? [];
    let topics: Topic[];
    if (how === 'invalid') topics = requested.map((t) => refused(WireError.INVALID_REQUEST, t.name ?? '', t.topicId));
    else if (!result.topics) topics = requested.map((t) => refused(errorCode, t.name ?? '', t.topicId));
    else if (how === 'ids') topics = byIds(req, result.topics);
    else topics = result.topics.map(topicOf);
    return {
      throttleTimeMs: 0,
      brokers: (result.brokers ?? []).flatMap((b) =>
        b.kafkaPort !== undefined && b.kafkaPort > 0
          ? [{ nodeId: b.nodeId, host: b.host, port: b.kafkaPort, rack: null }]
          : [],
      ),
      clusterId: result.clusterId ?? null,
      controllerId: result.controllerId ?? -1,
      topics,
      clusterAuthorizedOperations: result.clusterAuthorizedOperations ?? noOperations,
    };
  },
});
