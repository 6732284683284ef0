/**
 * LeaveGroup (key 13), v0-v4 (flexible from v4): v0-v2 one member leaves
 * its group; v3+ a batch of members, each by member id and/or static
 * instance id (KIP-345), answered member by member (UNKNOWN_MEMBER_ID,
 * FENCED_INSTANCE_ID), with a top-level error only for the group as a whole
 * (NOT_COORDINATOR and the like), as Kafka answers.
 */

import { array, field, type Infer, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  memberId: field(string, '', 0, 2),
  members: field(array(struct({ memberId: field(string, ''), groupInstanceId: field(nullableString, null) })), [], 3),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  errorCode: field(int16, 0),
  members: field(
    array(
      struct({
        memberId: field(string, ''),
        groupInstanceId: field(nullableString, null),
        errorCode: field(int16, 0),
      }),
    ),
    [],
    3,
  ),
});

type Request = Infer<typeof request>;

export const leaveGroupApi = kafkaApi({
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req: Request, version) =>
    version >= 3
      ? {
          groupId: req.groupId,
          memberId: '',
          members: req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })),
        }
      : { groupId: req.groupId, memberId: req.memberId },
  // a request refused as a whole (the group's coordinator is elsewhere) answers no member, as Kafka's does
  fromNative: (result) => {
    const { errorCode } = errorOf(result);
    return {
      throttleTimeMs: 0,
      errorCode,
      members:
        result.members?.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          errorCode: m.errorCode,
        })) ?? [],
    };
  },
});
