/**
 * ListGroups (key 16), v0-v4 (flexible from v3): the groups this broker
 * coordinates (with members or committed offsets). v4 (KIP-518) filters by
 * state (case-insensitively, as Kafka does) and answers each group's state.
 */

import { array, field, type Infer, int16, int32, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  statesFilter: field(array(string), [], 4),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
  groups: field(
    array(
      struct({
        groupId: field(string, ''),
        protocolType: field(string, ''),
        groupState: field(string, '', 4),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;

export const listGroupsApi = kafkaApi({
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request,
  response,
  toNative: (req: Request) => ({ statesFilter: req.statesFilter }),
  fromNative: (result) => {
    return {
      throttleTimeMs: 0,
      errorCode: errorOf(result).errorCode,
      groups: (result.groups ?? []).map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: g.state,
      })),
    };
  },
});
