/**
 * Consumer-group APIs of the native protocol (Kafka's group membership and
 * offset APIs, msgpackr bodies). Member metadata and assignments are opaque
 * bytes to the broker; their layout is consumer-protocol.ts, shared by the
 * client that writes them and the tools that show them.
 */
import type { ErrorFields } from './messages.js';

// FindCoordinator
export interface FindCoordinatorRequest {
  /** The group id. */
  key: string;
}
export interface FindCoordinatorResponse extends ErrorFields {
  nodeId: number;
  host: string;
  port: number;
  /** The coordinator's Kafka-protocol listener (-1: none). */
  kafkaPort?: number;
}

// JoinGroup
export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** '' for a member joining for the first time: the coordinator assigns one. */
  memberId: string;
  protocolType: string;
  /** Assignors the member supports, in preference order, each with its subscription bytes. */
  protocols: { name: string; metadata: Buffer }[];
}
export interface JoinGroupResponse extends ErrorFields {
  generationId: number;
  /** The assignor chosen for this generation. */
  protocolName: string;
  leader: string;
  memberId: string;
  /** Every member with its subscription, for the leader only; empty for the others. */
  members: { memberId: string; metadata: Buffer }[];
}

// SyncGroup
export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  /** The leader's assignment for every member; empty from the others. */
  assignments: { memberId: string; assignment: Buffer }[];
}
export interface SyncGroupResponse extends ErrorFields {
  assignment: Buffer;
}

// Heartbeat / LeaveGroup
export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}
export type HeartbeatResponse = ErrorFields;
export interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
}
export type LeaveGroupResponse = ErrorFields;

// OffsetCommit / OffsetFetch
export interface OffsetCommitRequest {
  groupId: string;
  /** -1 with memberId '' commits for a group with no members (admin tools, resets). */
  generationId: number;
  memberId: string;
  topics: { name: string; partitions: { partition: number; offset: number; metadata?: string }[] }[];
}
export interface OffsetCommitResponse extends ErrorFields {
  topics: { name: string; partitions: ({ partition: number } & ErrorFields)[] }[];
}
export interface OffsetFetchRequest {
  groupId: string;
  /** null: every partition the group has an offset for. */
  topics: { name: string; partitions: number[] }[] | null;
}
export interface OffsetFetchResponse extends ErrorFields {
  topics: {
    name: string;
    /** offset -1: nothing committed. */
    partitions: ({ partition: number; offset: number; metadata: string } & ErrorFields)[];
  }[];
}

// ListGroups / DescribeGroups
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
export type ListGroupsRequest = Record<string, never>;
export interface ListGroupsResponse extends ErrorFields {
  groups: { groupId: string; protocolType: string; state: GroupState }[];
}
export interface DescribeGroupsRequest {
  groups: string[];
}
export interface DescribedMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  metadata: Buffer;
  assignment: Buffer;
}
export interface DescribeGroupsResponse extends ErrorFields {
  groups: ({
    groupId: string;
    state: GroupState;
    protocolType: string;
    protocol: string;
    members: DescribedMember[];
  } & ErrorFields)[];
}
