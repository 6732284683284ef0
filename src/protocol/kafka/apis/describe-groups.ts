/**
 * DescribeGroups (key 15), v0-v5 (flexible from v5): state, protocol and
 * members (with their subscription and assignment bytes, and from v4 a static
 * member's instance id) of groups this broker coordinates. There are no
 * ACLs: authorized operations are "not provided" (INT32_MIN).
 */

import {
  array,
  bool,
  bytes,
  field,
  type Infer,
  int16,
  int32,
  nullableString,
  string,
  struct,
} from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const noOperations = -2147483648;

const request = struct({
  groups: field(array(string), []),
  includeAuthorizedOperations: field(bool, false, 3),
});

const member = struct({
  memberId: field(string, ''),
  groupInstanceId: field(nullableString, null, 4),
  clientId: field(string, ''),
  clientHost: field(string, ''),
  memberMetadata: field(bytes, Buffer.alloc(0)),
  memberAssignment: field(bytes, Buffer.alloc(0)),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  groups: field(
    array(
      struct({
        errorCode: field(int16, 0),
        groupId: field(string, ''),
        groupState: field(string, ''),
        protocolType: field(string, ''),
        protocolData: field(string, ''),
        members: field(array(member), []),
        authorizedOperations: field(int32, noOperations, 3),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;

export const describeGroupsApi = kafkaApi({
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 5,
  request,
  response,
  toNative: (req: Request) => ({ groups: req.groups }),
  fromNative: (result, req: Request) => {
    if (!result.groups) {
      const { errorCode } = errorOf(result);
      return {
        throttleTimeMs: 0,
        groups: req.groups.map((groupId) => ({
          errorCode,
          groupId,
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: noOperations,
        })),
      };
    }
    return {
      throttleTimeMs: 0,
      groups: result.groups.map((g) => ({
        errorCode: g.errorCode,
        groupId: g.groupId,
        groupState: g.state,
        protocolType: g.protocolType,
        protocolData: g.protocol,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId ?? null,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
        authorizedOperations: noOperations,
      })),
    };
  },
});
