/**
 * DeleteGroups (key 42), v0-v2 (flexible from v2): removes empty consumer
 * groups and their committed offsets, answered group by group by the native
 * handler: NON_EMPTY_GROUP while a group has members, GROUP_ID_NOT_FOUND
 * when it has neither members nor offsets, NOT_COORDINATOR when another
 * broker coordinates it. A request refused as a whole carries its error on
 * every group named.
 */

import { array, field, type Infer, int16, int32, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupsNames: field(array(string), []),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  results: field(array(struct({ groupId: field(string, ''), errorCode: field(int16, 0) })), []),
});

type Request = Infer<typeof request>;

export const deleteGroupsApi = kafkaApi({
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req: Request) => ({ groups: req.groupsNames }),
  fromNative: (result, req: Request) => {
    if (!result.results) {
      const { errorCode } = errorOf(result);
      return { throttleTimeMs: 0, results: req.groupsNames.map((groupId) => ({ groupId, errorCode })) };
    }
    return {
      throttleTimeMs: 0,
      results: result.results.map((r) => ({ groupId: r.groupId, errorCode: r.errorCode })),
    };
  },
});
