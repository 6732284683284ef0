/**
 * FindCoordinator (key 10), v0-v2: the broker that coordinates a consumer
 * group, answered by the native handler (the leader of the group's offsets
 * partition) with that broker's Kafka listener. A coordinator without a
 * Kafka listener is not available to Kafka clients. Transaction
 * coordinators (key type 1) do not exist: Sluice has no transactions.
 */

import { field, type Infer, int8, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const groupKeyType = 0;

const request = struct({
  key: field(string, ''),
  keyType: field(int8, groupKeyType, 1),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null, 1),
  nodeId: field(int32, -1),
  host: field(string, ''),
  port: field(int32, -1),
});

type Response = Infer<typeof response>;

function refuse(errorCode: number, errorMessage: string | null): Response {
  return { throttleTimeMs: 0, errorCode, errorMessage, nodeId: -1, host: '', port: -1 };
}

export const findCoordinatorApi = kafkaApi({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 3,
  request,
  response,
  toNative: (req) => ({ key: req.key }),
  fromNative: (result, req) => {
    if (req.keyType !== groupKeyType) {
      return refuse(
        WireError.COORDINATOR_NOT_AVAILABLE,
        `Sluice has no transactions: there is no coordinator of key type ${req.keyType}`,
      );
    }
    const { errorCode, errorMessage } = errorOf(result);
    if (errorCode !== 0 || result.nodeId === undefined || result.host === undefined) {
      return refuse(errorCode || WireError.COORDINATOR_NOT_AVAILABLE, errorMessage);
    }
    if (result.kafkaPort === undefined || result.kafkaPort <= 0) {
      return refuse(
        WireError.COORDINATOR_NOT_AVAILABLE,
        `the coordinator of group ${req.key} (broker ${result.nodeId}) has no Kafka listener`,
      );
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: result.nodeId,
      host: result.host,
      port: result.kafkaPort,
    };
  },
});
