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
import { deleteGroupsApi } from '../../../src/protocol/kafka/apis/delete-groups.js';
import { listGroupsApi } from '../../../src/protocol/kafka/apis/list-groups.js';
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
