/** Heartbeat (key 12), v0-v3: a member says it is alive; the answer says whether to rejoin. */

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
  maxVersion: 3,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req) => ({ groupId: req.groupId, generationId: req.generationId, memberId: req.memberId }),
  fromNative: (result) => ({ throttleTimeMs: 0, errorCode: errorOf(result).errorCode }),
});
