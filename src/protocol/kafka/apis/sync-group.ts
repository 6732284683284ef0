/**
 * SyncGroup (key 14), v0-v5 (flexible from v4): the leader hands in every
 * member's assignment, every member gets its own back (opaque
 * consumer-protocol bytes). v3+ carries a static member's instance id
 * (KIP-345: an old member id of a rejoined instance is FENCED_INSTANCE_ID);
 * v5 carries the protocol type and name both ways (KIP-559: a request whose
 * values differ from the group's is INCONSISTENT_GROUP_PROTOCOL).
 */

import { array, bytes, field, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  generationId: field(int32, -1),
  memberId: field(string, ''),
  groupInstanceId: field(nullableString, null, 3),
  protocolType: field(nullableString, null, 5),
  protocolName: field(nullableString, null, 5),
  assignments: field(array(struct({ memberId: field(string, ''), assignment: field(bytes, Buffer.alloc(0)) })), []),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
  protocolType: field(nullableString, null, 5),
  protocolName: field(nullableString, null, 5),
  assignment: field(bytes, Buffer.alloc(0)),
});

export const syncGroupApi = kafkaApi({
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req) => ({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    protocolType: req.protocolType,
    protocolName: req.protocolName,
    assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
  }),
  fromNative: (result) => {
    const { errorCode } = errorOf(result);
    return {
      throttleTimeMs: 0,
      errorCode,
      protocolType: errorCode === 0 ? (result.protocolType ?? null) : null,
      protocolName: errorCode === 0 ? (result.protocolName ?? null) : null,
      assignment: result.assignment ?? Buffer.alloc(0),
    };
  },
});
