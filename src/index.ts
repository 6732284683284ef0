/** The public API of the `sluice` package. */

export type { AclDescription, AclFilterOptions } from './client/acl-admin.js';
export { Admin } from './client/admin.js';
export { type BrokerAddress, type BrokerList, parseBrokers, type ReconnectPolicy } from './client/brokers.js';
export { Consumer } from './client/consumer.js';
export type {
  GroupDescription,
  GroupListing,
  GroupMemberAssignment,
  GroupMemberDescription,
  GroupPartitionOffset,
  GroupState,
  ResetOffsetsOptions,
  ResetOffsetsResult,
  ResetOffsetsTarget,
} from './client/group-admin.js';
export { durableGroupOf, JmsTopic, type TopicMessageHandler, TopicSubscription } from './client/jms-topic.js';
export type { CreatePartitionsOptions, DeletedRecords, DeleteRecordsOptions } from './client/partition-admin.js';
export { murmur2, partitionForKey, toPositive } from './client/partitioner.js';
export { Producer, type ProducerTransaction, type TxnOffsets } from './client/producer.js';
export { Queue } from './client/queue.js';
export { QueueListener, type QueueMessageHandler, QueueReceiver } from './client/queue-receiver.js';
export type {
  PartitionReassignmentSpec,
  PartitionReassignmentStatus,
  ReassignPartitionsOptions,
} from './client/reassignment-admin.js';
export { Session, SessionQueue, SessionReceiver } from './client/session.js';
export { type QueueCommitStatus, SessionCommitError } from './client/session-commit.js';
export { SessionSubscriber } from './client/session-subscriber.js';
export { SessionTopic } from './client/session-topic.js';
export { Sluice, type SluiceEvents } from './client/sluice.js';
export type {
  ListTransactionsOptions,
  TransactionDescription,
  TransactionListing,
} from './client/transaction-admin.js';
export type * from './client/types.js';
export { ErrorCode, isSluiceError, SluiceError } from './shared/errors.js';
