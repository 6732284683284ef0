/**
 * Authorization of the partition side of transactions (issue 21) on a real broker with ACLs
 * on, as Kafka's: WriteTxnMarkers comes from brokers only (ClusterAction on the cluster), and a
 * produce naming a transactional id needs Write on that TransactionalId before anything else.
 * The principal here (User:ANONYMOUS, not a super user) has no ACL at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/protocol/error-codes.js';
import { ApiKey } from '../../src/protocol/native/api-keys.js';
import { encodeRecordBatch } from '../../src/wire/record-batch-encoder.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';

interface Body {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

let broker: BrokerProcess | undefined;
let c: RawClient | undefined;

beforeAll(async () => {
  broker = await BrokerProcess.start({ overrides: ['authorizer.enabled=true', 'super.users=User:admin'] });
  c = await RawClient.connect(broker.port);
}, 60_000);

afterAll(async () => {
  c?.close();
  await broker?.destroy();
}, 30_000);

describe('transactions and ACLs', () => {
  it('refuses WriteTxnMarkers without ClusterAction on the cluster', async () => {
    const r = await (c as RawClient).call<Body>(ApiKey.WriteTxnMarkers, {
      markers: [
        {
          producerId: 1,
          producerEpoch: 0,
          committed: true,
          coordinatorEpoch: 0,
          topics: [{ name: 't', partitions: [0] }],
        },
      ],
    });
    expect(r.errorCode).toBe(WireError.CLUSTER_AUTHORIZATION_FAILED);
  });

  it('refuses a produce naming a transactional id the principal may not Write', async () => {
    const records = encodeRecordBatch([{ value: Buffer.from('v') }], {
      producerId: 1,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    });
    const body = { acks: 1, timeoutMs: 5000, topics: [{ name: 't', partitions: [{ partition: 0, records }] }] };
    const refused = await (c as RawClient).call<Body>(ApiKey.Produce, { ...body, transactionalId: 'tx-1' });
    expect(refused.errorCode).toBe(WireError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // without the id the request is answered partition by partition (the topic check)
    const plain = await (c as RawClient).call<Body>(ApiKey.Produce, body);
    expect(plain.topics[0].partitions[0].errorCode).toBe(WireError.TOPIC_AUTHORIZATION_FAILED);
  });
});
