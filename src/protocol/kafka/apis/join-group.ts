/**
 * JoinGroup (key 11), v0-v7 (flexible from v6): a member joins (or rejoins)
 * a consumer group; the native handler's group coordinator holds the
 * rebalance. v0 has no rebalance timeout: the session timeout stands in for
 * it, as in Kafka. From v4 a member without an id is answered
 * MEMBER_ID_REQUIRED with the id it must join again with (KIP-394). From v5
 * a member may be static (group_instance_id, KIP-345). From v7 the answer
 * names the protocol type (KIP-559), and a failed join's protocol type and
 * name are null, as Kafka answers them.
 */

import { array, bytes, field, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  groupId: field(string, ''),
  sessionTimeoutMs: field(int32, 0),
  rebalanceTimeoutMs: field(int32, -1, 1),
  memberId: field(string, ''),
  groupInstanceId: field(nullableString, null, 5),
  protocolType: field(string, ''),
  protocols: field(array(struct({ name: field(string, ''), metadata: field(bytes, Buffer.alloc(0)) })), []),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 2),
  errorCode: field(int16, 0),
  generationId: field(int32, -1),
  protocolType: field(nullableString, null, 7),
  // nullable from v7 (a classic string before: never null there)
  protocolName: field(nullableString, ''),
  leader: field(string, ''),
  memberId: field(string, ''),
  members: field(
    array(
      struct({
        memberId: field(string, ''),
        groupInstanceId: field(nullableString, null, 5),
        metadata: field(bytes, Buffer.alloc(0)),
      }),
    ),
    [],
  ),
});

export const joinGroupApi = kafkaApi({
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 6,
  request,
  response,
  toNative: (req, version) => ({
    groupId: req.groupId,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: version >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    // KIP-394: from v4 a member without an id gets one (MEMBER_ID_REQUIRED) and must join again with it
    requireKnownMemberId: version >= 4,
    protocolType: req.protocolType,
    protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
  }),
  fromNative: (result, req, version) => {
    const { errorCode } = errorOf(result);
    const failed = errorCode !== 0;
    return {
      throttleTimeMs: 0,
      errorCode,
      generationId: result.generationId ?? -1,
      // a joined member's group has the protocol type it asked for
      protocolType: failed ? null : req.protocolType,
      protocolName: failed && version >= 7 ? null : (result.protocolName ?? ''),
      leader: result.leader ?? '',
      memberId: result.memberId ?? req.memberId,
      members: (result.members ?? []).map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId ?? null,
        metadata: m.metadata,
      })),
    };
  },
});
