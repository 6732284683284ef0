/**
 * LeaveGroup (key 13), v0-v2: one member leaves its group. v3 batches
 * several members (static membership), which one native call cannot
 * answer member by member, so this listener stops at v2.
 */

import { field, int16, int32, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  memberId: field(string, '', 0, 2),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
});

export const leaveGroupApi = kafkaApi({
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req) => ({ groupId: req.groupId, memberId: req.memberId }),
  fromNative: (result) => ({ throttleTimeMs: 0, errorCode: errorOf(result).errorCode }),
});
