/**
 * Every native API, declared once: its key, the versions this build speaks,
 * the shape of its request (request-shapes.ts) and, as types, its request and
 * response. Handlers (src/handlers), the listener codecs (src/server), the
 * Kafka adapters (src/protocol/kafka/apis) and ApiVersions all take what they
 * need from here, so adding an API or a field is a compile error wherever it
 * is forgotten. The native counterpart of src/protocol/kafka/registry.ts.
 */
import {
  type CreateAclsResponse,
  createAclsRequest,
  type DeleteAclsResponse,
  type DescribeAclsResponse,
  deleteAclsRequest,
  describeAclsRequest,
} from './acl-messages.js';
import { ApiKey } from './api-keys.js';
import type {
  DeleteGroupsResponse,
  DescribeGroupsResponse,
  FindCoordinatorResponse,
  HeartbeatResponse,
  JoinGroupResponse,
  LeaveGroupResponse,
  ListGroupsResponse,
  OffsetCommitResponse,
  OffsetFetchResponse,
  SyncGroupResponse,
} from './group-messages.js';
import { type DescribeLogDirsResponse, describeLogDirsRequest } from './log-dir-messages.js';
import type {
  AlterConfigsResponse,
  ApiVersionsResponse,
  CreateTopicsResponse,
  DeleteTopicsResponse,
  DescribeConfigsResponse,
  ErrorFields,
  FetchResponse,
  InitProducerIdResponse,
  ListOffsetsResponse,
  MetadataResponse,
  ProduceResponse,
} from './messages.js';
import {
  type CreatePartitionsResponse,
  createPartitionsRequest,
  type DeleteRecordsResponse,
  deleteRecordsRequest,
} from './partition-messages.js';
import type {
  QueueAckResponse,
  QueueAdminResponse,
  QueueFetchResponse,
  QueueLeaveResponse,
  QueueSendResponse,
} from './queue-messages.js';
import {
  type AlterClientQuotasResponse,
  alterClientQuotasRequest,
  type DescribeClientQuotasResponse,
  describeClientQuotasRequest,
} from './quota-messages.js';
import {
  type AlterPartitionReassignmentsResponse,
  alterPartitionReassignmentsRequest,
  type ListPartitionReassignmentsResponse,
  listPartitionReassignmentsRequest,
} from './reassignment-messages.js';
import {
  type BrokerHeartbeatResponse,
  brokerHeartbeatRequest,
  type OffsetForLeaderEpochResponse,
} from './replication-messages.js';
import * as shapes from './request-shapes.js';
import {
  type AlterUserScramCredentialsResponse,
  alterUserScramCredentialsRequest,
  type DescribeUserScramCredentialsResponse,
  describeUserScramCredentialsRequest,
  type SaslAuthenticateResponse,
  type SaslHandshakeResponse,
  saslAuthenticateRequest,
  saslHandshakeRequest,
} from './security-messages.js';
import type { Infer, Shape } from './shape.js';
import {
  type AddOffsetsToTxnResponse,
  type AddPartitionsToTxnResponse,
  addOffsetsToTxnRequest,
  addPartitionsToTxnRequest,
  type DescribeTransactionsResponse,
  describeTransactionsRequest,
  type EndTxnResponse,
  endTxnRequest,
  type ListTransactionsResponse,
  listTransactionsRequest,
  type TxnOffsetCommitResponse,
  txnOffsetCommitRequest,
  type WriteTxnMarkersResponse,
  writeTxnMarkersRequest,
} from './transaction-messages.js';

/** One native API: the versions it speaks (a request outside them is UNSUPPORTED_VERSION) and its request's shape. */
export interface NativeApiRow<S extends Shape<unknown> = Shape<unknown>> {
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly request: S;
}

/** Version 0 is the first (and so far only) native version of each API. */
const v0 = { minVersion: 0, maxVersion: 0 } as const;

/** The rows as written, with their shapes' precise types (what the request types are inferred from). */
const rows = {
  [ApiKey.Produce]: { ...v0, request: shapes.produceRequest },
  [ApiKey.Fetch]: { ...v0, request: shapes.fetchRequest },
  [ApiKey.ListOffsets]: { ...v0, request: shapes.listOffsetsRequest },
  [ApiKey.Metadata]: { ...v0, request: shapes.metadataRequest },
  [ApiKey.OffsetCommit]: { ...v0, request: shapes.offsetCommitRequest },
  [ApiKey.OffsetFetch]: { ...v0, request: shapes.offsetFetchRequest },
  [ApiKey.FindCoordinator]: { ...v0, request: shapes.findCoordinatorRequest },
  [ApiKey.JoinGroup]: { ...v0, request: shapes.joinGroupRequest },
  [ApiKey.Heartbeat]: { ...v0, request: shapes.heartbeatRequest },
  [ApiKey.LeaveGroup]: { ...v0, request: shapes.leaveGroupRequest },
  [ApiKey.SyncGroup]: { ...v0, request: shapes.syncGroupRequest },
  [ApiKey.DescribeGroups]: { ...v0, request: shapes.describeGroupsRequest },
  [ApiKey.ListGroups]: { ...v0, request: shapes.listGroupsRequest },
  [ApiKey.ApiVersions]: { ...v0, request: shapes.apiVersionsRequest },
  [ApiKey.CreateTopics]: { ...v0, request: shapes.createTopicsRequest },
  [ApiKey.DeleteTopics]: { ...v0, request: shapes.deleteTopicsRequest },
  [ApiKey.InitProducerId]: { ...v0, request: shapes.initProducerIdRequest },
  [ApiKey.OffsetForLeaderEpoch]: { ...v0, request: shapes.offsetForLeaderEpochRequest },
  [ApiKey.DescribeConfigs]: { ...v0, request: shapes.describeConfigsRequest },
  [ApiKey.AlterConfigs]: { ...v0, request: shapes.alterConfigsRequest },
  [ApiKey.IncrementalAlterConfigs]: { ...v0, request: shapes.incrementalAlterConfigsRequest },
  [ApiKey.DeleteGroups]: { ...v0, request: shapes.deleteGroupsRequest },
  [ApiKey.AlterPartitionReassignments]: { ...v0, request: alterPartitionReassignmentsRequest },
  [ApiKey.ListPartitionReassignments]: { ...v0, request: listPartitionReassignmentsRequest },
  [ApiKey.CreatePartitions]: { ...v0, request: createPartitionsRequest },
  [ApiKey.DeleteRecords]: { ...v0, request: deleteRecordsRequest },
  [ApiKey.DescribeLogDirs]: { ...v0, request: describeLogDirsRequest },
  [ApiKey.DescribeAcls]: { ...v0, request: describeAclsRequest },
  [ApiKey.CreateAcls]: { ...v0, request: createAclsRequest },
  [ApiKey.DeleteAcls]: { ...v0, request: deleteAclsRequest },
  [ApiKey.SaslHandshake]: { ...v0, request: saslHandshakeRequest },
  [ApiKey.SaslAuthenticate]: { ...v0, request: saslAuthenticateRequest },
  [ApiKey.DescribeUserScramCredentials]: { ...v0, request: describeUserScramCredentialsRequest },
  [ApiKey.AlterUserScramCredentials]: { ...v0, request: alterUserScramCredentialsRequest },
  [ApiKey.DescribeClientQuotas]: { ...v0, request: describeClientQuotasRequest },
  [ApiKey.AlterClientQuotas]: { ...v0, request: alterClientQuotasRequest },
  [ApiKey.QueueSend]: { ...v0, request: shapes.queueSendRequest },
  [ApiKey.QueueFetch]: { ...v0, request: shapes.queueFetchRequest },
  [ApiKey.QueueAck]: { ...v0, request: shapes.queueAckRequest },
  [ApiKey.QueueLeave]: { ...v0, request: shapes.queueLeaveRequest },
  [ApiKey.QueueAdmin]: { ...v0, request: shapes.queueAdminRequest },
  [ApiKey.BrokerHeartbeat]: { ...v0, request: brokerHeartbeatRequest },
  [ApiKey.AddPartitionsToTxn]: { ...v0, request: addPartitionsToTxnRequest },
  [ApiKey.AddOffsetsToTxn]: { ...v0, request: addOffsetsToTxnRequest },
  [ApiKey.EndTxn]: { ...v0, request: endTxnRequest },
  [ApiKey.WriteTxnMarkers]: { ...v0, request: writeTxnMarkersRequest },
  [ApiKey.TxnOffsetCommit]: { ...v0, request: txnOffsetCommitRequest },
  [ApiKey.DescribeTransactions]: { ...v0, request: describeTransactionsRequest },
  [ApiKey.ListTransactions]: { ...v0, request: listTransactionsRequest },
} as const satisfies { readonly [K in ApiKey]: NativeApiRow };

/** The response body of each API (what its handler answers when the request is not refused as a whole). */
interface Responses {
  [ApiKey.Produce]: ProduceResponse;
  [ApiKey.Fetch]: FetchResponse;
  [ApiKey.ListOffsets]: ListOffsetsResponse;
  [ApiKey.Metadata]: MetadataResponse;
  [ApiKey.OffsetCommit]: OffsetCommitResponse;
  [ApiKey.OffsetFetch]: OffsetFetchResponse;
  [ApiKey.FindCoordinator]: FindCoordinatorResponse;
  [ApiKey.JoinGroup]: JoinGroupResponse;
  [ApiKey.Heartbeat]: HeartbeatResponse;
  [ApiKey.LeaveGroup]: LeaveGroupResponse;
  [ApiKey.SyncGroup]: SyncGroupResponse;
  [ApiKey.DescribeGroups]: DescribeGroupsResponse;
  [ApiKey.ListGroups]: ListGroupsResponse;
  [ApiKey.ApiVersions]: ApiVersionsResponse;
  [ApiKey.CreateTopics]: CreateTopicsResponse;
  [ApiKey.DeleteTopics]: DeleteTopicsResponse;
  [ApiKey.InitProducerId]: InitProducerIdResponse;
  [ApiKey.OffsetForLeaderEpoch]: OffsetForLeaderEpochResponse;
  [ApiKey.DescribeConfigs]: DescribeConfigsResponse;
  [ApiKey.AlterConfigs]: AlterConfigsResponse;
  [ApiKey.IncrementalAlterConfigs]: AlterConfigsResponse;
  [ApiKey.DeleteGroups]: DeleteGroupsResponse;
  [ApiKey.AlterPartitionReassignments]: AlterPartitionReassignmentsResponse;
  [ApiKey.ListPartitionReassignments]: ListPartitionReassignmentsResponse;
  [ApiKey.CreatePartitions]: CreatePartitionsResponse;
  [ApiKey.DeleteRecords]: DeleteRecordsResponse;
  [ApiKey.DescribeLogDirs]: DescribeLogDirsResponse;
  [ApiKey.DescribeAcls]: DescribeAclsResponse;
  [ApiKey.CreateAcls]: CreateAclsResponse;
  [ApiKey.DeleteAcls]: DeleteAclsResponse;
  [ApiKey.SaslHandshake]: SaslHandshakeResponse;
  [ApiKey.SaslAuthenticate]: SaslAuthenticateResponse;
  [ApiKey.DescribeUserScramCredentials]: DescribeUserScramCredentialsResponse;
  [ApiKey.AlterUserScramCredentials]: AlterUserScramCredentialsResponse;
  [ApiKey.DescribeClientQuotas]: DescribeClientQuotasResponse;
  [ApiKey.AlterClientQuotas]: AlterClientQuotasResponse;
  [ApiKey.QueueSend]: QueueSendResponse;
  [ApiKey.QueueFetch]: QueueFetchResponse;
  [ApiKey.QueueAck]: QueueAckResponse;
  [ApiKey.QueueLeave]: QueueLeaveResponse;
  [ApiKey.QueueAdmin]: QueueAdminResponse;
  [ApiKey.BrokerHeartbeat]: BrokerHeartbeatResponse;
  [ApiKey.AddPartitionsToTxn]: AddPartitionsToTxnResponse;
  [ApiKey.AddOffsetsToTxn]: AddOffsetsToTxnResponse;
  [ApiKey.EndTxn]: EndTxnResponse;
  [ApiKey.WriteTxnMarkers]: WriteTxnMarkersResponse;
  [ApiKey.TxnOffsetCommit]: TxnOffsetCommitResponse;
  [ApiKey.DescribeTransactions]: DescribeTransactionsResponse;
  [ApiKey.ListTransactions]: ListTransactionsResponse;
}

/**
 * Each API's request and response types. The request type is inferred from
 * the registry's shape, so it is exactly what parseRequest (request-check.ts)
 * lets through; the message modules' request types are the same inference.
 */
export type NativeApi = {
  [K in ApiKey]: { request: Infer<(typeof rows)[K]['request']>; response: Responses[K] };
};

export type RequestOf<K extends ApiKey> = NativeApi[K]['request'];
export type ResponseOf<K extends ApiKey> = NativeApi[K]['response'];

/**
 * The registry: every API key has a row (a key without one, or a row without
 * a key, does not compile), and row K's shape describes RequestOf<K>, so a
 * generic K keeps the pairing.
 */
export const nativeApis: { readonly [K in ApiKey]: NativeApiRow<Shape<RequestOf<K>>> } = rows;

/**
 * An answer without the API's body: a request refused or failed as a whole
 * (INVALID_REQUEST from the shape check, a handler's error, UNSUPPORTED_VERSION),
 * or nothing at all (what the Kafka listener answers itself).
 */
export type Refused = Partial<ErrorFields>;

/**
 * What comes back for a request of API K: its response, or a refusal that
 * has none of the response's other fields (so checking one narrows).
 */
export type AnswerOf<K extends ApiKey> =
  | ResponseOf<K>
  | (Refused & { [F in Exclude<keyof ResponseOf<K>, keyof ErrorFields>]?: undefined });

/** What any native API's handler (or the listener in its place) answers. */
export type NativeAnswer = ResponseOf<ApiKey> | Refused;

/** The registry row of `apiKey`, or undefined for a key this build does not know. */
export function nativeApi(apiKey: number): NativeApiRow | undefined {
  return isApiKey(apiKey) ? nativeApis[apiKey] : undefined;
}

export function isApiKey(apiKey: number): apiKey is ApiKey {
  return Object.hasOwn(nativeApis, apiKey);
}

/** True when this build speaks `version` of `apiKey`. */
export function speaks(apiKey: number, version: number): boolean {
  const api = nativeApi(apiKey);
  return api !== undefined && version >= api.minVersion && version <= api.maxVersion;
}

/** Every API and the versions it speaks, by key ascending: the ApiVersions answer. */
export function supportedVersions(): ApiVersionsResponse['apis'] {
  return Object.values(ApiKey)
    .sort((a, b) => a - b)
    .map((apiKey) => ({
      apiKey,
      minVersion: nativeApis[apiKey].minVersion,
      maxVersion: nativeApis[apiKey].maxVersion,
    }));
}

/** The shape of `apiKey`'s request body, or undefined for a key this build does not know. */
export function requestShape(apiKey: number): Shape<unknown> | undefined {
  return nativeApi(apiKey)?.request;
}
