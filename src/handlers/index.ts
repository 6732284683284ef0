/** Every handler, by API key: the table's type makes a missing handler, or one under another key, a compile error. */

import { ApiKey } from '../protocol/native/api-keys.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.js';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.js';
import { alterConfigsHandler } from './alter-configs.js';
import { apiVersionsHandler } from './api-versions.js';
import { brokerHeartbeatHandler } from './broker-heartbeat.js';
import { alterClientQuotasHandler, describeClientQuotasHandler } from './client-quota-handlers.js';
import type { HandlerTable } from './context.js';
import { createPartitionsHandler } from './create-partitions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { deleteRecordsHandler } from './delete-records.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeConfigsHandler } from './describe-configs.js';
import { describeLogDirsHandler } from './describe-log-dirs.js';
import { describeTransactionsHandler } from './describe-transactions.js';
import { endTxnHandler } from './end-txn.js';
import { fetchHandler } from './fetch.js';
import {
  describeGroupsHandler,
  findCoordinatorHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  syncGroupHandler,
} from './group-handlers.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { listTransactionsHandler } from './list-transactions.js';
import { metadataHandler } from './metadata.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { alterPartitionReassignmentsHandler, listPartitionReassignmentsHandler } from './partition-reassignments.js';
import { produceHandler } from './produce.js';
import { queueHandlers } from './queue-handlers.js';
import { withRequestChecks } from './request-authorization.js';
import { saslAuthenticateHandler } from './sasl-authenticate.js';
import { saslHandshakeHandler } from './sasl-handshake.js';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './scram-credentials.js';
import { unservedTransactionHandlers } from './transactions-unserved.js';
import { txnOffsetCommitHandler } from './txn-offset-commit.js';
import { writeTxnMarkersHandler } from './write-txn-markers.js';

export const handlers: HandlerTable = withRequestChecks({
  [ApiKey.Produce]: produceHandler,
  [ApiKey.Fetch]: fetchHandler,
  [ApiKey.ListOffsets]: listOffsetsHandler,
  [ApiKey.Metadata]: metadataHandler,
  [ApiKey.OffsetCommit]: offsetCommitHandler,
  [ApiKey.OffsetFetch]: offsetFetchHandler,
  [ApiKey.FindCoordinator]: findCoordinatorHandler,
  [ApiKey.JoinGroup]: joinGroupHandler,
  [ApiKey.Heartbeat]: heartbeatHandler,
  [ApiKey.LeaveGroup]: leaveGroupHandler,
  [ApiKey.SyncGroup]: syncGroupHandler,
  [ApiKey.DescribeGroups]: describeGroupsHandler,
  [ApiKey.ListGroups]: listGroupsHandler,
  [ApiKey.ApiVersions]: apiVersionsHandler,
  [ApiKey.CreateTopics]: createTopicsHandler,
  [ApiKey.DeleteTopics]: deleteTopicsHandler,
  [ApiKey.InitProducerId]: initProducerIdHandler,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpochHandler,
  [ApiKey.DescribeConfigs]: describeConfigsHandler,
  [ApiKey.DescribeLogDirs]: describeLogDirsHandler,
  [ApiKey.AlterConfigs]: alterConfigsHandler,
  [ApiKey.IncrementalAlterConfigs]: incrementalAlterConfigsHandler,
  [ApiKey.DeleteGroups]: deleteGroupsHandler,
  [ApiKey.AlterPartitionReassignments]: alterPartitionReassignmentsHandler,
  [ApiKey.ListPartitionReassignments]: listPartitionReassignmentsHandler,
  [ApiKey.CreatePartitions]: createPartitionsHandler,
  [ApiKey.DeleteRecords]: deleteRecordsHandler,
  [ApiKey.DescribeAcls]: describeAclsHandler,
  [ApiKey.CreateAcls]: createAclsHandler,
  [ApiKey.DeleteAcls]: deleteAclsHandler,
  [ApiKey.SaslHandshake]: saslHandshakeHandler,
  [ApiKey.SaslAuthenticate]: saslAuthenticateHandler,
  [ApiKey.DescribeUserScramCredentials]: describeUserScramCredentialsHandler,
  [ApiKey.AlterUserScramCredentials]: alterUserScramCredentialsHandler,
  [ApiKey.DescribeClientQuotas]: describeClientQuotasHandler,
  [ApiKey.AlterClientQuotas]: alterClientQuotasHandler,
  [ApiKey.BrokerHeartbeat]: brokerHeartbeatHandler,
  [ApiKey.AddPartitionsToTxn]: addPartitionsToTxnHandler,
  [ApiKey.AddOffsetsToTxn]: addOffsetsToTxnHandler,
  [ApiKey.EndTxn]: endTxnHandler,
  [ApiKey.DescribeTransactions]: describeTransactionsHandler,
  [ApiKey.ListTransactions]: listTransactionsHandler,
  ...queueHandlers,
  ...unservedTransactionHandlers,
  [ApiKey.TxnOffsetCommit]: txnOffsetCommitHandler,
  [ApiKey.WriteTxnMarkers]: writeTxnMarkersHandler,
});
