/** ListGroups (key 16), v0-v2: the groups this broker coordinates (with members or committed offsets). */

import { array, field, int16, int32, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
  groups: field(array(struct({ groupId: field(string, ''), protocolType: field(string, '') })), []),
});

export const listGroupsApi = kafkaApi({
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 3,
  request,
  response,
  toNative: () => ({}),
  fromNative: (result) => {
    return {
      throttleTimeMs: 0,
      errorCode: errorOf(result).errorCode,
      groups: (result.groups ?? []).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })),
    };
  },
});
