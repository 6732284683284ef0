/**
 * TxnOffsetCommit (28) on the Kafka listener: v0-v1 as kafkajs's encoder
 * writes them and its decoder reads our answer; v2 and v3 (flexible, KIP-447's
 * generation, member and instance id) laid out by hand.
 */
import { describe, expect, it } from 'vitest';
import { txnOffsetCommitApi } from '../../../src/protocol/kafka/apis/txn-offset-commit.js';
import { kafkaApis } from '../../../src/protocol/kafka/registry.js';
import { WireError } from '../../../src/shared/errors.js';
import { cs, fromKafkajs, hex, readRequest, s, toKafkajs, writeResponse } from '../../helpers/kafka-api-check.js';

const producerId = '0000000000000007';
const epoch = '0002';

describe('TxnOffsetCommit (28)', () => {
  it('is advertised v0-v3, flexible from v3, under its own key', () => {
    expect(kafkaApis.get(28)).toBe(txnOffsetCommitApi);
    expect([txnOffsetCommitApi.minVersion, txnOffsetCommitApi.maxVersion, txnOffsetCommitApi.flexibleFrom]).toEqual([
      0, 3, 3,
    ]);
  });

  it('reads kafkajs v0 and v1 requests and answers per partition, as kafkajs decodes', async () => {
    for (const v of [0, 1]) {
      const req = await fromKafkajs(txnOffsetCommitApi, 'txnOffsetCommit', v, {
        transactionalId: 'tx',
        groupId: 'g',
        producerId: '7',
        producerEpoch: 2,
        topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5', metadata: null }] }],
      });
      expect(txnOffsetCommitApi.toNative?.(req, v)).toEqual({
        transactionalId: 'tx',
        groupId: 'g',
        producerId: 7,
        producerEpoch: 2,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: 't', partitions: [{ partition: 0, offset: 5, metadata: null, leaderEpoch: -1 }] }],
      });
      const native = {
        errorCode: 0,
        topics: [{ name: 't', partitions: [{ partition: 0, errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION }] }],
      };
      const decoded = await toKafkajs(txnOffsetCommitApi, 'txnOffsetCommit', v, native, req);
      expect(decoded).toMatchObject({
        topics: [{ topic: 't', partitions: [{ partition: 0, errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION }] }],
      });
    }
  });

  it('reads v2 (leader epoch) by hand; a request refused as a whole answers every partition', () => {
    const req = readRequest(
      txnOffsetCommitApi,
      2,
      hex(`${s('tx')} ${s('g')} ${producerId} ${epoch} 00000001 ${s('t')} 00000002
           00000000 0000000000000005 00000003 ${s('m')}
           00000001 0000000000000006 ffffffff ffff`),
    );
    expect(txnOffsetCommitApi.toNative?.(req, 2)).toMatchObject({
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, offset: 5, leaderEpoch: 3, metadata: 'm' },
            { partition: 1, offset: 6, leaderEpoch: -1, metadata: null },
          ],
        },
      ],
    });
    const refused = { errorCode: WireError.GROUP_AUTHORIZATION_FAILED, errorMessage: 'no' };
    expect(writeResponse(txnOffsetCommitApi, 2, refused, req).toString('hex')).toBe(
      hex(`00000000 00000001 ${s('t')} 00000002 00000000 001e 00000001 001e`).toString('hex'),
    );
  });

  it('reads and answers v3 (flexible, KIP-447 group metadata) laid out by hand', () => {
    const req = readRequest(
      txnOffsetCommitApi,
      3,
      hex(`${cs('tx')} ${cs('g')} ${producerId} ${epoch} 00000004 ${cs('m1')} ${cs('i1')}
           02 ${cs('t')} 02 00000000 0000000000000005 00000003 00 00 00 00`),
    );
    expect(txnOffsetCommitApi.toNative?.(req, 3)).toEqual({
      transactionalId: 'tx',
      groupId: 'g',
      producerId: 7,
      producerEpoch: 2,
      generationId: 4,
      memberId: 'm1',
      groupInstanceId: 'i1',
      topics: [{ name: 't', partitions: [{ partition: 0, offset: 5, metadata: null, leaderEpoch: 3 }] }],
    });
    const native = {
      errorCode: 0,
      topics: [{ name: 't', partitions: [{ partition: 0, errorCode: WireError.ILLEGAL_GENERATION }] }],
    };
    expect(writeResponse(txnOffsetCommitApi, 3, native, req).toString('hex')).toBe(
      hex(`00000000 02 ${cs('t')} 02 00000000 0016 00 00 00`).toString('hex'),
    );
  });
});
