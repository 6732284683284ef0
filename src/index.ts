/** The public API of the `sluice` package. */
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
export { murmur2, partitionForKey, toPositive } from './client/partitioner.js';
export { Producer } from './client/producer.js';
export { Sluice, type SluiceEvents } from './client/sluice.js';
export type * from './client/types.js';
export { ErrorCode, isSluiceError, SluiceError } from './shared/errors.js';
