/**
 * Heartbeat (key 12), v0-v4 (flexible from v4): a member says it is alive;
 * the answer says whether to rejoin. v3+ carries a static member's instance
 * id (KIP-345: an old member id of a rejoined instance is FENCED_INSTANCE_ID).
 */

import { field, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  generationId: field(int32, -1),
  memberId: field(string, ''),
  groupInstanceId: field(nullableString, null, 3),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
});

export const heartbeatApi = kafkaApi({
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req) => ({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
  }),
  fromNative: (result) => ({ throttleTimeMs: 0, errorCode: errorOf(result).errorCode }),
});
