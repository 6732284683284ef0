/**
 * Consumer-group APIs of the native protocol (Kafka's group membership and
 * offset APIs, msgpackr bodies). Member metadata and assignments are opaque
 * bytes to the broker; their layout is consumer-protocol.ts, shared by the
 * client that writes them and the tools that show them.
 */
import type { ErrorFields } from './messages.js';
import type * as shapes from './request-shapes.js';
import type { Infer } from './shape.js';

// FindCoordinator
/** key: the group id. */
export type FindCoordinatorRequest = Infer<typeof shapes.findCoordinatorRequest>;
export interface FindCoordinatorResponse extends ErrorFields {
  nodeId: number;
  host: string;
  port: number;
  /** The coordinator's Kafka-protocol listener (-1: none). */
  kafkaPort?: number;
  /** One answer per requested `keys` entry (absent when the request named one `key`). */
  coordinators?: ({ key: string; nodeId: number; host: string; port: number; kafkaPort?: number } & ErrorFields)[];
}

// JoinGroup
/** memberId '' for a member joining for the first time; protocols: assignors in preference order, each with its subscription bytes. */
export type JoinGroupWire = Infer<typeof shapes.joinGroupRequest>;
/** What the coordinator gets: the rebalance timeout defaults to the session timeout. */
export type JoinGroupRequest = JoinGroupWire & { rebalanceTimeoutMs: number };
export interface JoinGroupResponse extends ErrorFields {
  generationId: number;
  /** The assignor chosen for this generation. */
  protocolName: string;
  leader: string;
  memberId: string;
  /** Every member with its subscription, for the leader only; empty for the others. */
  members: { memberId: string; groupInstanceId?: string | null; metadata: Buffer }[];
}

// SyncGroup
/** assignments: the leader's for every member; empty from the others. */
export type SyncGroupRequest = Infer<typeof shapes.syncGroupRequest>;
export interface SyncGroupResponse extends ErrorFields {
  assignment: Buffer;
  /** The group's protocol type and chosen assignor (KIP-559), on success. */
  protocolType?: string;
  protocolName?: string;
}

// Heartbeat / LeaveGroup
export type HeartbeatRequest = Infer<typeof shapes.heartbeatRequest>;
export type HeartbeatResponse = ErrorFields;
export type LeaveGroupRequest = Infer<typeof shapes.leaveGroupRequest>;
export interface LeaveGroupResponse extends ErrorFields {
  /** One answer per requested `members` entry (absent when the request named one `memberId`). */
  members?: ({ memberId: string; groupInstanceId: string | null } & ErrorFields)[];
}

// OffsetCommit / OffsetFetch
/** generationId -1 with memberId '' commits for a group with no members (admin tools, resets). */
export type OffsetCommitRequest = Infer<typeof shapes.offsetCommitRequest>;
export interface OffsetCommitResponse extends ErrorFields {
  topics: { name: string; partitions: ({ partition: number } & ErrorFields)[] }[];
}
/** topics null: every partition the group has an offset for. */
export type OffsetFetchWire = Infer<typeof shapes.offsetFetchRequest>;
/** What the coordinator gets: absent topics are null. */
export type OffsetFetchRequest = OffsetFetchWire & { topics: Exclude<OffsetFetchWire['topics'], undefined> };
export interface OffsetFetchResponse extends ErrorFields {
  topics: {
    name: string;
    /** offset -1: nothing committed; leaderEpoch -1: not known (KIP-320; absent from older brokers). */
    partitions: ({ partition: number; offset: number; metadata: string; leaderEpoch?: number } & ErrorFields)[];
  }[];
  /** The answer to a request's `groups` (then `topics` is empty): one per group, in request order. */
  groups?: ({ groupId: string; topics: OffsetFetchResponse['topics'] } & ErrorFields)[];
}

// ListGroups / DescribeGroups
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
export type ListGroupsRequest = Infer<typeof shapes.listGroupsRequest>;
export type DeleteGroupsRequest = Infer<typeof shapes.deleteGroupsRequest>;
/** DeleteGroups (Kafka's API 42): one result per group named. */
export interface DeleteGroupsResponse extends ErrorFields {
  results: ({ groupId: string } & ErrorFields)[];
}
export interface ListGroupsResponse extends ErrorFields {
  groups: { groupId: string; protocolType: string; state: GroupState }[];
}
export type DescribeGroupsRequest = Infer<typeof shapes.describeGroupsRequest>;
export interface DescribedMember {
  memberId: string;
  /** KIP-345: a static member's instance id; null or absent for a dynamic member. */
  groupInstanceId?: string | null;
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
