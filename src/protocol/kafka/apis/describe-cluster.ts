/**
 * DescribeCluster (key 60), v0-v1, flexible from v0 (KIP-700): the cluster
 * id, the controller and the brokers with their Kafka listeners, answered by
 * native Metadata asked for no topics. librdkafka's rd_kafka_DescribeCluster()
 * and the Java admin client's describeCluster() use it. Only broker endpoints
 * are described (v1's endpoint type 1): Sluice has no KRaft controllers to list.
 */

import { array, bool, field, int8, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const noOperations = -2147483648;
/** v1's EndpointType: 1 brokers, 2 controllers. */
const brokerEndpoints = 1;

const request = struct({
  includeClusterAuthorizedOperations: field(bool, false),
  endpointType: field(int8, brokerEndpoints, 1),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  endpointType: field(int8, brokerEndpoints, 1),
  clusterId: field(string, ''),
  controllerId: field(int32, -1),
  brokers: field(
    array(
      struct({
        brokerId: field(int32, 0),
        host: field(string, ''),
        port: field(int32, 0),
        rack: field(nullableString, null),
      }),
    ),
    [],
  ),
  clusterAuthorizedOperations: field(int32, noOperations),
});

export const describeClusterApi = kafkaApi({
  apiKey: 3,
  kafkaApiKey: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req) => ({
    topics: [],
    allowAutoTopicCreation: false,
    ...(req.includeClusterAuthorizedOperations ? { includeClusterAuthorizedOperations: true } : {}),
  }),
  fromNative: (result, req) => {
    const base = {
      throttleTimeMs: 0,
      endpointType: req.endpointType,
      clusterId: '',
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: noOperations,
    };
    if (req.endpointType !== brokerEndpoints) {
      // Kafka's brokers answer UNSUPPORTED_ENDPOINT_TYPE (119), which Sluice's error table does not have
      return {
        ...base,
        errorCode: WireError.UNSUPPORTED_VERSION,
        errorMessage: `only broker endpoints (type ${brokerEndpoints}) are described, not type ${req.endpointType}`,
      };
    }
    const { errorCode, errorMessage } = errorOf(result);
    if (errorCode !== 0) return { ...base, errorCode, errorMessage };
    return {
      ...base,
      errorCode: 0,
      errorMessage: null,
      clusterId: result.clusterId ?? '',
      controllerId: result.controllerId ?? -1,
      clusterAuthorizedOperations: result.clusterAuthorizedOperations ?? noOperations,
      // brokers without a Kafka listener are left out (a Kafka client could not reach them), as in Metadata
      brokers: (result.brokers ?? []).flatMap((b) =>
        b.kafkaPort !== undefined && b.kafkaPort > 0
          ? [{ brokerId: b.nodeId, host: b.host, port: b.kafkaPort, rack: null }]
          : [],
      ),
    };
  },
});
