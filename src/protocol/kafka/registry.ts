/** Every API the Kafka listener speaks, by API key. ApiVersions advertises exactly these. */
import { type AnyKafkaApi, type KafkaEnv, kafkaKeyOf } from './api.js';
import { createAclsApi, deleteAclsApi, describeAclsApi } from './apis/acls.js';
import { addOffsetsToTxnApi } from './apis/add-offsets-to-txn.js';
import { addPartitionsToTxnApi } from './apis/add-partitions-to-txn.js';
import { alterConfigsApi } from './apis/alter-configs.js';
import { alterPartitionReassignmentsApi } from './apis/alter-partition-reassignments.js';
import { alterUserScramCredentialsApi } from './apis/alter-user-scram-credentials.js';
import { apiVersionsApi } from './apis/api-versions.js';
import { alterClientQuotasApi, describeClientQuotasApi } from './apis/client-quotas.js';
import { createPartitionsApi } from './apis/create-partitions.js';
import { createTopicsApi } from './apis/create-topics.js';
import { deleteGroupsApi } from './apis/delete-groups.js';
import { deleteRecordsApi } from './apis/delete-records.js';
import { deleteTopicsApi } from './apis/delete-topics.js';
import { describeClusterApi } from './apis/describe-cluster.js';
import { describeConfigsApi } from './apis/describe-configs.js';
import { describeGroupsApi } from './apis/describe-groups.js';
import { describeLogDirsApi } from './apis/describe-log-dirs.js';
import { describeTransactionsApi } from './apis/describe-transactions.js';
import { describeUserScramCredentialsApi } from './apis/describe-user-scram-credentials.js';
import { endTxnApi } from './apis/end-txn.js';
import { fetchApi } from './apis/fetch.js';
import { findCoordinatorApi } from './apis/find-coordinator.js';
import { heartbeatApi } from './apis/heartbeat.js';
import { incrementalAlterConfigsApi } from './apis/incremental-alter-configs.js';
import { initProducerIdApi } from './apis/init-producer-id.js';
import { joinGroupApi } from './apis/join-group.js';
import { leaveGroupApi } from './apis/leave-group.js';
import { listGroupsApi } from './apis/list-groups.js';
import { listOffsetsApi } from './apis/list-offsets.js';
import { listPartitionReassignmentsApi } from './apis/list-partition-reassignments.js';
import { listTransactionsApi } from './apis/list-transactions.js';
import { metadataApi } from './apis/metadata.js';
import { offsetCommitApi } from './apis/offset-commit.js';
import { offsetFetchApi } from './apis/offset-fetch.js';
import { produceApi } from './apis/produce.js';
import { saslAuthenticateApi } from './apis/sasl-authenticate.js';
import { saslHandshakeApi } from './apis/sasl-handshake.js';
import { syncGroupApi } from './apis/sync-group.js';
import { txnOffsetCommitApi } from './apis/txn-offset-commit.js';

const apis: AnyKafkaApi[] = [
  produceApi,
  fetchApi,
  listOffsetsApi,
  metadataApi,
  offsetCommitApi,
  offsetFetchApi,
  findCoordinatorApi,
  joinGroupApi,
  heartbeatApi,
  leaveGroupApi,
  syncGroupApi,
  describeGroupsApi,
  listGroupsApi,
  apiVersionsApi,
  createTopicsApi,
  deleteTopicsApi,
  initProducerIdApi,
  describeConfigsApi,
  describeClusterApi,
  alterPartitionReassignmentsApi,
  listPartitionReassignmentsApi,
  alterConfigsApi,
  incrementalAlterConfigsApi,
  createPartitionsApi,
  deleteRecordsApi,
  describeLogDirsApi,
  deleteGroupsApi,
  describeAclsApi,
  createAclsApi,
  deleteAclsApi,
  saslHandshakeApi,
  saslAuthenticateApi,
  describeUserScramCredentialsApi,
  alterUserScramCredentialsApi,
  describeClientQuotasApi,
  alterClientQuotasApi,
  txnOffsetCommitApi,
  addPartitionsToTxnApi,
  addOffsetsToTxnApi,
  endTxnApi,
  describeTransactionsApi,
  listTransactionsApi,
];

export const kafkaApis: ReadonlyMap<number, AnyKafkaApi> = new Map(apis.map((a) => [kafkaKeyOf(a), a]));

export const kafkaEnv: KafkaEnv = {
  supported: [...kafkaApis.values()]
    .sort((a, b) => kafkaKeyOf(a) - kafkaKeyOf(b))
    .map((a) => ({ apiKey: kafkaKeyOf(a), minVersion: a.minVersion, maxVersion: a.maxVersion })),
};
