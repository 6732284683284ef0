/**
 * FindCoordinator (key 10), v0-v4 (flexible from v3): the broker that
 * coordinates a consumer group, answered by the native handler (the leader
 * of the group's offsets partition) with that broker's Kafka listener. v4
 * asks for several groups at once (KIP-699) and is answered group by group.
 * A coordinator without a Kafka listener is not available to Kafka clients.
 * Key type 1 asks for a transactional id's transaction coordinator (the
 * leader of its __transaction_state partition).
 */

import { array, field, type Infer, int8, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const groupKeyType = 0;
const transactionKeyType = 1;

const request = struct({
  key: field(string, '', 0, 3),
  keyType: field(int8, groupKeyType, 1),
  coordinatorKeys: field(array(string), [], 4),
});

const coordinator = struct({
  key: field(string, ''),
  nodeId: field(int32, -1),
  host: field(string, ''),
  port: field(int32, -1),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0, 0, 3),
  errorMessage: field(nullableString, null, 1, 3),
  nodeId: field(int32, -1, 0, 3),
  host: field(string, '', 0, 3),
  port: field(int32, -1, 0, 3),
  coordinators: field(array(coordinator), [], 4),
});

type Request = Infer<typeof request>;
type Response = Infer<typeof response>;
type Found = Omit<Infer<typeof coordinator>, 'key'>;

interface NativeCoordinator {
  errorCode?: number;
  errorMessage?: string;
  nodeId?: number;
  host?: string;
  kafkaPort?: number;
}

function refuse(errorCode: number, errorMessage: string | null): Found {
  return { errorCode, errorMessage, nodeId: -1, host: '', port: -1 };
}

/** One group's answer: the coordinator's Kafka listener, or why there is none. */
function found(result: NativeCoordinator, key: string, keyType: number): Found {
  if (keyType !== groupKeyType && keyType !== transactionKeyType) {
    return refuse(WireError.INVALID_REQUEST, `there is no coordinator of key type ${keyType}`);
  }
  const { errorCode, errorMessage } = errorOf(result);
  if (errorCode !== 0 || result.nodeId === undefined || result.host === undefined) {
    return refuse(errorCode || WireError.COORDINATOR_NOT_AVAILABLE, errorMessage);
  }
  if (result.kafkaPort === undefined || result.kafkaPort <= 0) {
    return refuse(
      WireError.COORDINATOR_NOT_AVAILABLE,
      `the coordinator of ${keyType === groupKeyType ? 'group' : 'transactional id'} ${key} (broker ${result.nodeId}) has no Kafka listener`,
    );
  }
  return { errorCode: 0, errorMessage: null, nodeId: result.nodeId, host: result.host, port: result.kafkaPort };
}

export const findCoordinatorApi = kafkaApi({
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request,
  response,
  toNative: (req: Request, version) => ({
    ...(version >= 4 ? { key: '', keys: req.coordinatorKeys } : { key: req.key }),
    ...(req.keyType === transactionKeyType ? { keyType: transactionKeyType } : {}),
  }),
  fromNative: (result, req: Request, version): Response => {
    if (version < 4) return { throttleTimeMs: 0, ...found(result, req.key, req.keyType), coordinators: [] };
    const byKey = new Map((result.coordinators ?? []).map((c) => [c.key, c]));
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId: -1,
      host: '',
      port: -1,
      // a request refused as a whole carries its error on every key
      coordinators: req.coordinatorKeys.map((key) => ({ key, ...found(byKey.get(key) ?? result, key, req.keyType) })),
    };
  },
});
