/**
 * SyncGroup (key 14), v0-v3: the leader hands in every member's assignment,
 * every member gets its own back (opaque consumer-protocol bytes).
 */

import { array, bytes, field, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  generationId: field(int32, -1),
  memberId: field(string, ''),
  groupInstanceId: field(nullableString, null, 3),
  assignments: field(array(struct({ memberId: field(string, ''), assignment: field(bytes, Buffer.alloc(0)) })), []),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
  assignment: field(bytes, Buffer.alloc(0)),
});

export const syncGroupApi = kafkaApi({
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req) => ({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
  }),
  fromNative: (result) => {
    return {
      throttleTimeMs: 0,
      errorCode: errorOf(result).errorCode,
      assignment: result.assignment ?? Buffer.alloc(0),
    };
  },
});
