/**
 * Metadata (key 3), v0-v8: brokers with their Kafka listener, the controller,
 * and every requested topic's partitions with leader, epoch, replicas and ISR.
 * Brokers without a Kafka listener are left out (a Kafka client could not
 * reach them). v0 asks for every topic with an empty list, v1+ with null.
 */

import { isInternalTopic } from '../../../shared/internal-topics.js';
import {
  array,
  bool,
  field,
  int16,
  int32,
  nullableArray,
  nullableString,
  string,
  struct,
} from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const noOperations = -2147483648;

const request = struct({
  topics: field(nullableArray(struct({ name: field(string, '') })), null),
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
        name: field(string, ''),
        isInternal: field(bool, false, 1),
        partitions: field(array(partition), []),
        topicAuthorizedOperations: field(int32, noOperations, 8),
      }),
    ),
    [],
  ),
  clusterAuthorizedOperations: field(int32, noOperations, 8, 10),
});

export const metadataApi = kafkaApi({
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 8,
  flexibleFrom: 9,
  request,
  response,
  toNative: (req, version) => {
    const names = req.topics?.map((t) => t.name) ?? null;
    return {
      topics: version === 0 && names?.length === 0 ? null : names,
      allowAutoTopicCreation: req.allowAutoTopicCreation,
    };
  },
  fromNative: (result, req) => {
    const { errorCode } = errorOf(result);
    return {
      throttleTimeMs: 0,
      brokers: (result.brokers ?? []).flatMap((b) =>
        b.kafkaPort !== undefined && b.kafkaPort > 0
          ? [{ nodeId: b.nodeId, host: b.host, port: b.kafkaPort, rack: null }]
          : [],
      ),
      clusterId: result.clusterId ?? null,
      controllerId: result.controllerId ?? -1,
      topics: result.topics
        ? result.topics.map((t) => ({
            errorCode: t.errorCode,
            name: t.name,
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
            topicAuthorizedOperations: noOperations,
          }))
        : (req.topics ?? []).map((t) => ({
            errorCode,
            name: t.name,
            isInternal: false,
            partitions: [],
            topicAuthorizedOperations: noOperations,
          })),
      clusterAuthorizedOperations: noOperations,
    };
  },
});
