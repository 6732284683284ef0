/**
 * The Kafka group API modules added or extended for issue 16 (DeleteGroups,
 * KIP-320 leader epochs, ListGroups states, the flexible versions, static
 * membership fields), checked byte for byte: against kafkajs 2.2.4's own
 * encoders and decoders where kafkajs has the version, and against bytes laid
 * out by hand from Kafka's message schemas
 * (clients/src/main/resources/common/message/*.json) where it has not.
 */
import { describe, expect, it } from 'vitest';
import { WireError } from '../../../src/protocol/error-codes.js';
import type { AnyKafkaApi } from '../../../src/protocol/kafka/api.js';
import { deleteGroupsApi } from '../../../src/protocol/kafka/apis/delete-groups.js';
import { describeGroupsApi } from '../../../src/protocol/kafka/apis/describe-groups.js';
import { findCoordinatorApi } from '../../../src/protocol/kafka/apis/find-coordinator.js';
import { heartbeatApi } from '../../../src/protocol/kafka/apis/heartbeat.js';
import { joinGroupApi } from '../../../src/protocol/kafka/apis/join-group.js';
import { leaveGroupApi } from '../../../src/protocol/kafka/apis/leave-group.js';
import { listGroupsApi } from '../../../src/protocol/kafka/apis/list-groups.js';
import { offsetCommitApi } from '../../../src/protocol/kafka/apis/offset-commit.js';
import { offsetFetchApi } from '../../../src/protocol/kafka/apis/offset-fetch.js';
import { syncGroupApi } from '../../../src/protocol/kafka/apis/sync-group.js';
import { kafkaApis } from '../../../src/protocol/kafka/registry.js';
import { cs, fromKafkajs, hex, readRequest, s, toKafkajs, writeResponse } from '../../helpers/kafka-api-check.js';

describe('DeleteGroups (42)', () => {
  it('is advertised v0-v2, flexible from v2, under its own key', () => {
    expect(kafkaApis.get(42)).toBe(deleteGroupsApi);
    expect([deleteGroupsApi.minVersion, deleteGroupsApi.maxVersion, deleteGroupsApi.flexibleFrom]).toEqual([0, 2, 2]);
  });

  it('reads kafkajs v0 and v1 requests and answers them per group, as kafkajs decodes', async () => {
    for (const v of [0, 1]) {
      const req = await fromKafkajs(deleteGroupsApi, 'deleteGroups', v, ['g1', 'g2']);
      expect(req).toEqual({ groupsNames: ['g1', 'g2'] });
      expect(deleteGroupsApi.toNative?.(req, v)).toEqual({ groups: ['g1', 'g2'] });
      const native = {
        errorCode: 0,
        results: [
          { groupId: 'g1', errorCode: 0 },
          { groupId: 'g2', errorCode: WireError.NON_EMPTY_GROUP, errorMessage: 'has members' },
        ],
      };
      const decoded = await toKafkajs(deleteGroupsApi, 'deleteGroups', v, native, req);
      expect(decoded).toMatchObject({
        throttleTimeMs: 0,
        results: [
          { groupId: 'g1', errorCode: 0 },
          { groupId: 'g2', errorCode: WireError.NON_EMPTY_GROUP },
        ],
      });
    }
  });

  it('reads and answers v2 (flexible) as laid out by hand', () => {
    const req = readRequest(deleteGroupsApi, 2, hex(`03 ${cs('g1')} ${cs('g2')} 00`));
    expect(req).toEqual({ groupsNames: ['g1', 'g2'] });
    const native = {
      errorCode: 0,
      results: [
        { groupId: 'g1', errorCode: WireError.GROUP_ID_NOT_FOUND },
        { groupId: 'g2', errorCode: 0 },
      ],
    };
    expect(writeResponse(deleteGroupsApi, 2, native, req).toString('hex')).toBe(
      hex(`00000000 03 ${cs('g1')} 0045 00 ${cs('g2')} 0000 00 00`).toString('hex'),
    );
  });

  it('carries a request-wide failure on every group named', () => {
    const req = readRequest(deleteGroupsApi, 0, hex(`00000001 ${s('g1')}`));
    expect(
      writeResponse(deleteGroupsApi, 0, { errorCode: WireError.INVALID_REQUEST, errorMessage: 'bad' }, req).toString(
        'hex',
      ),
    ).toBe(hex(`00000000 00000001 ${s('g1')} 002a`).toString('hex'));
  });
});

describe('ListGroups (16) v3-v4', () => {
  const native = {
    errorCode: 0,
    groups: [
      { groupId: 'a', protocolType: 'consumer', state: 'Stable' as const },
      { groupId: 'b', protocolType: 'consumer', state: 'Empty' as const },
    ],
  };

  it('reads v3 (flexible, empty) and v4 (states filter) requests laid out by hand', () => {
    expect(readRequest(listGroupsApi, 3, hex('00'))).toEqual({ statesFilter: [] });
    const v4 = readRequest(listGroupsApi, 4, hex(`03 ${cs('Stable')} ${cs('empty')} 00`));
    expect(v4).toEqual({ statesFilter: ['Stable', 'empty'] });
    expect(listGroupsApi.toNative?.(v4, 4)).toEqual({ statesFilter: ['Stable', 'empty'] });
  });

  it('answers v3 without and v4 with each group state, laid out by hand', () => {
    const req = readRequest(listGroupsApi, 3, hex('00'));
    expect(writeResponse(listGroupsApi, 3, native, req).toString('hex')).toBe(
      hex(`00000000 0000 03 ${cs('a')} ${cs('consumer')} 00 ${cs('b')} ${cs('consumer')} 00 00`).toString('hex'),
    );
    expect(writeResponse(listGroupsApi, 4, native, req).toString('hex')).toBe(
      hex(
        `00000000 0000 03 ${cs('a')} ${cs('consumer')} ${cs('Stable')} 00 ${cs('b')} ${cs('consumer')} ${cs('Empty')} 00 00`,
      ).toString('hex'),
    );
  });

  it('still answers kafkajs v0-v2 (no state on the wire)', async () => {
    for (const v of [0, 1, 2]) {
      const req = await fromKafkajs(listGroupsApi, 'listGroups', v, {});
      expect(listGroupsApi.toNative?.(req, v)).toEqual({ statesFilter: [] });
      const decoded = await toKafkajs(listGroupsApi, 'listGroups', v, native, req);
      expect(decoded).toMatchObject({
        errorCode: 0,
        groups: [{ groupId: 'a', protocolType: 'consumer' }, { groupId: 'b' }],
      });
    }
  });
});

/** Hex of `h` with its whitespace gone, for comparing with a written body. */
const bytes = (h: string): string => hex(h).toString('hex');
const i32 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

describe('the group APIs advertise the flexible versions current clients prefer', () => {
  it('speaks these ranges, flexible from the versions Kafka made flexible', () => {
    const apis: AnyKafkaApi[] = [joinGroupApi, syncGroupApi, heartbeatApi, leaveGroupApi, offsetCommitApi];
    apis.push(offsetFetchApi, describeGroupsApi, listGroupsApi, findCoordinatorApi, deleteGroupsApi);
    const ranges = apis.map((a) => [a.name, a.minVersion, a.maxVersion, a.flexibleFrom]);
    expect(ranges).toEqual([
      ['JoinGroup', 0, 7, 6],
      ['SyncGroup', 0, 5, 4],
      ['Heartbeat', 0, 4, 4],
      ['LeaveGroup', 0, 4, 4],
      ['OffsetCommit', 2, 8, 8],
      ['OffsetFetch', 1, 8, 6],
      ['DescribeGroups', 0, 5, 5],
      ['ListGroups', 0, 4, 3],
      ['FindCoordinator', 0, 4, 3],
      ['DeleteGroups', 0, 2, 2],
    ]);
  });
});

describe('JoinGroup (11) v6-v7, hand-laid', () => {
  // group, session 10 s, rebalance 60 s, member '', instance 'i1', type, [range: 0102]
  const body = `${cs('g')} 00002710 0000ea60 ${cs('')} ${cs('i1')} ${cs('consumer')} 02 ${cs('range')} 03 0102 00 00`;

  it('reads a static member (instance id) at v6 and v7 and hands it on', () => {
    for (const v of [6, 7]) {
      const req = readRequest(joinGroupApi, v, hex(body));
      expect(req).toMatchObject({ groupId: 'g', rebalanceTimeoutMs: 60_000, memberId: '', groupInstanceId: 'i1' });
      expect(joinGroupApi.toNative?.(req, v)).toMatchObject({ groupInstanceId: 'i1', requireKnownMemberId: true });
    }
  });

  it('answers v6 without and v7 with the protocol type; a failed v7 join has null type and name', () => {
    const req = readRequest(joinGroupApi, 7, hex(body));
    const native = {
      errorCode: 0,
      generationId: 3,
      protocolName: 'range',
      leader: 'm1',
      memberId: 'm1',
      members: [{ memberId: 'm1', groupInstanceId: 'i1', metadata: Buffer.from([9]) }],
    };
    const tail = `${cs('m1')} ${cs('m1')} 02 ${cs('m1')} ${cs('i1')} 02 09 00 00`;
    expect(writeResponse(joinGroupApi, 6, native, req).toString('hex')).toBe(
      bytes(`00000000 0000 00000003 ${cs('range')} ${tail}`),
    );
    expect(writeResponse(joinGroupApi, 7, native, req).toString('hex')).toBe(
      bytes(`00000000 0000 00000003 ${cs('consumer')} ${cs('range')} ${tail}`),
    );
    const failed = { errorCode: WireError.FENCED_INSTANCE_ID, memberId: 'm0' };
    expect(writeResponse(joinGroupApi, 7, failed, req).toString('hex')).toBe(
      bytes(`00000000 0052 ffffffff 00 00 ${cs('')} ${cs('m0')} 01 00`),
    );
  });
});

describe('SyncGroup (14) v4-v5, hand-laid', () => {
  it('reads v5 with protocol type and name and answers them back', () => {
    const body = `${cs('g')} 00000003 ${cs('m1')} 00 ${cs('consumer')} ${cs('range')} 02 ${cs('m1')} 03 0102 00 00`;
    const req = readRequest(syncGroupApi, 5, hex(body));
    expect(syncGroupApi.toNative?.(req, 5)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: 'm1', assignment: Buffer.from([1, 2]) }],
    });
    const native = { errorCode: 0, assignment: Buffer.from([7]), protocolType: 'consumer', protocolName: 'range' };
    expect(writeResponse(syncGroupApi, 5, native, req).toString('hex')).toBe(
      bytes(`00000000 0000 ${cs('consumer')} ${cs('range')} 02 07 00`),
    );
    expect(writeResponse(syncGroupApi, 4, native, req).toString('hex')).toBe(bytes('00000000 0000 02 07 00'));
    expect(writeResponse(syncGroupApi, 5, { errorCode: 23 }, req).toString('hex')).toBe(
      bytes('00000000 0017 00 00 01 00'),
    );
  });
});

describe('Heartbeat (12) v4 and LeaveGroup (13) v3-v4', () => {
  it('reads and answers a v4 heartbeat of a static member, hand-laid', () => {
    const req = readRequest(heartbeatApi, 4, hex(`${cs('g')} 00000003 ${cs('m1')} ${cs('i1')} 00`));
    expect(heartbeatApi.toNative?.(req, 4)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: 'i1',
    });
    expect(writeResponse(heartbeatApi, 4, { errorCode: 82 }, req).toString('hex')).toBe(bytes('00000000 0052 00'));
  });

  it('reads a kafkajs v3 batch leave and answers it member by member, as kafkajs decodes', async () => {
    const req = await fromKafkajs(leaveGroupApi, 'leaveGroup', 3, {
      groupId: 'g',
      members: [{ memberId: 'm1', groupInstanceId: 'i1' }, { memberId: 'm2' }],
    });
    expect(leaveGroupApi.toNative?.(req, 3)).toEqual({
      groupId: 'g',
      memberId: '',
      members: [
        { memberId: 'm1', groupInstanceId: 'i1' },
        { memberId: 'm2', groupInstanceId: null },
      ],
    });
    const native = {
      errorCode: 0,
      members: [
        { memberId: 'm1', groupInstanceId: 'i1', errorCode: 0 },
        { memberId: 'm2', groupInstanceId: null, errorCode: WireError.UNKNOWN_MEMBER_ID },
      ],
    };
    const decoded = await toKafkajs(leaveGroupApi, 'leaveGroup', 3, native, req);
    expect(decoded).toMatchObject({
      errorCode: 0,
      members: [
        { memberId: 'm1', groupInstanceId: 'i1', errorCode: 0 },
        { memberId: 'm2', groupInstanceId: null, errorCode: WireError.UNKNOWN_MEMBER_ID },
      ],
    });
  });

  it('reads and answers v4 (flexible), hand-laid; a refusal of the whole request answers no member', () => {
    const req = readRequest(leaveGroupApi, 4, hex(`${cs('g')} 02 ${cs('')} ${cs('i1')} 00 00`));
    expect(leaveGroupApi.toNative?.(req, 4)).toEqual({
      groupId: 'g',
      memberId: '',
      members: [{ memberId: '', groupInstanceId: 'i1' }],
    });
    const native = { errorCode: 0, members: [{ memberId: '', groupInstanceId: 'i1', errorCode: 0 }] };
    expect(writeResponse(leaveGroupApi, 4, native, req).toString('hex')).toBe(
      bytes(`00000000 0000 02 ${cs('')} ${cs('i1')} 0000 00 00`),
    );
    expect(writeResponse(leaveGroupApi, 4, { errorCode: 16 }, req).toString('hex')).toBe(bytes('00000000 0010 01 00'));
  });
});

describe('OffsetCommit (8) v8 and OffsetFetch (9) v6-v7, hand-laid', () => {
  it('reads a v8 commit with a leader epoch and an instance id, and answers it', () => {
    const body =
      `${cs('g')} 00000003 ${cs('m1')} ${cs('i1')} 02 ${cs('t')} 02` +
      ` 00000000 0000000000000005 00000002 ${cs('x')} 00 00 00`;
    const req = readRequest(offsetCommitApi, 8, hex(body));
    expect(offsetCommitApi.toNative?.(req, 8)).toEqual({
      groupId: 'g',
      generationId: 3,
      memberId: 'm1',
      groupInstanceId: 'i1',
      topics: [{ name: 't', partitions: [{ partition: 0, offset: 5, metadata: 'x', leaderEpoch: 2 }] }],
    });
    const native = { errorCode: 0, topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0 }] }] };
    expect(writeResponse(offsetCommitApi, 8, native, req).toString('hex')).toBe(
      bytes(`00000000 02 ${cs('t')} 02 00000000 0000 00 00 00`),
    );
  });

  it('reads v6 and v7 (require_stable) fetches and answers the leader epoch', () => {
    const v6 = readRequest(offsetFetchApi, 6, hex(`${cs('g')} 02 ${cs('t')} 02 00000000 00 00`));
    expect(offsetFetchApi.toNative?.(v6, 6)).toEqual({ groupId: 'g', topics: [{ name: 't', partitions: [0] }] });
    const v7 = readRequest(offsetFetchApi, 7, hex(`${cs('g')} 00 01 00`));
    expect(v7).toEqual({ groupId: 'g', topics: null, groups: [], requireStable: true });
    // KIP-447: the native request asks for stable offsets (v6 never does)
    expect(offsetFetchApi.toNative?.(v7, 7)).toEqual({ groupId: 'g', topics: null, requireStable: true });
    const native = {
      errorCode: 0,
      topics: [{ name: 't', partitions: [{ partition: 0, offset: 5, metadata: 'x', leaderEpoch: 2, errorCode: 0 }] }],
    };
    const answer = bytes(`00000000 02 ${cs('t')} 02 00000000 0000000000000005 00000002 ${cs('x')} 0000 00 00 0000 00`);
    expect(writeResponse(offsetFetchApi, 6, native, v6).toString('hex')).toBe(answer);
    expect(writeResponse(offsetFetchApi, 7, native, v7).toString('hex')).toBe(answer);
  });
});

describe('DescribeGroups (15) v4-v5', () => {
  const native = {
    errorCode: 0,
    groups: [
      {
        groupId: 'g',
        errorCode: 0,
        state: 'Stable' as const,
        protocolType: 'consumer',
        protocol: 'range',
        members: [
          {
            memberId: 'm1',
            groupInstanceId: 'i1',
            clientId: 'c',
            clientHost: '/h',
            metadata: Buffer.from([1]),
            assignment: Buffer.from([2]),
          },
        ],
      },
    ],
  };

  it('answers v5 (flexible) with the static member instance id, hand-laid', () => {
    const req = readRequest(describeGroupsApi, 5, hex(`02 ${cs('g')} 00 00`));
    expect(req).toEqual({ groups: ['g'], includeAuthorizedOperations: false });
    expect(writeResponse(describeGroupsApi, 5, native, req).toString('hex')).toBe(
      bytes(
        `00000000 02 0000 ${cs('g')} ${cs('Stable')} ${cs('consumer')} ${cs('range')}` +
          ` 02 ${cs('m1')} ${cs('i1')} ${cs('c')} ${cs('/h')} 02 01 02 02 00 ${i32(-2147483648)} 00 00`,
      ),
    );
  });

  it('answers v4 (classic) with the instance id, hand-laid', () => {
    const req = readRequest(describeGroupsApi, 4, hex(`00000001 ${s('g')} 00`));
    expect(writeResponse(describeGroupsApi, 4, native, req).toString('hex')).toBe(
      bytes(
        `00000000 00000001 0000 ${s('g')} ${s('Stable')} ${s('consumer')} ${s('range')}` +
          ` 00000001 ${s('m1')} ${s('i1')} ${s('c')} ${s('/h')} 00000001 01 00000001 02 ${i32(-2147483648)}`,
      ),
    );
  });
});

describe('FindCoordinator (10) v3-v4, hand-laid', () => {
  const found = { errorCode: 0, nodeId: 1, host: 'h', port: 9001, kafkaPort: 19001 };

  it('reads and answers v3 (flexible) with the Kafka port', () => {
    const req = readRequest(findCoordinatorApi, 3, hex(`${cs('g')} 00 00`));
    expect(findCoordinatorApi.toNative?.(req, 3)).toEqual({ key: 'g' });
    expect(writeResponse(findCoordinatorApi, 3, found, req).toString('hex')).toBe(
      bytes(`00000000 0000 00 00000001 ${cs('h')} ${i32(19001)} 00`),
    );
  });

  it('reads v4 (batched keys, KIP-699) and answers each key on its own', () => {
    const req = readRequest(findCoordinatorApi, 4, hex(`00 03 ${cs('g1')} ${cs('g2')} 00`));
    expect(findCoordinatorApi.toNative?.(req, 4)).toEqual({ key: '', keys: ['g1', 'g2'] });
    const native = {
      errorCode: 0,
      nodeId: -1,
      host: '',
      port: -1,
      coordinators: [
        { key: 'g1', ...found },
        { key: 'g2', errorCode: 15, errorMessage: 'no leader', nodeId: -1, host: '', port: -1 },
      ],
    };
    expect(writeResponse(findCoordinatorApi, 4, native, req).toString('hex')).toBe(
      bytes(
        `00000000 03 ${cs('g1')} 00000001 ${cs('h')} ${i32(19001)} 0000 00 00` +
          ` ${cs('g2')} ffffffff ${cs('')} ffffffff 000f ${cs('no leader')} 00 00`,
      ),
    );
  });
});
