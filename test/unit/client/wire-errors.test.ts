/**
 * A broker's wire error becomes a SluiceError with the condition's own code
 * (the one error table), so a caller can tell NOT_ENOUGH_REPLICAS_AFTER_APPEND
 * or NOT_COORDINATOR from a generic broker error: at the seam (wireError) and
 * through the producer and the group admin against a scripted broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkTopLevel, isRetriableError, markRetriable, wireError } from '../../../src/client/errors.js';
import { Sluice } from '../../../src/client/sluice.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { ErrorCode, isSluiceError, SluiceError, WireError } from '../../../src/shared/errors.js';
import { type AnyBody, type FakeHandler, fakeNativeBroker } from '../../helpers/fake-native-broker.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function client(handler: FakeHandler): Promise<Sluice> {
  const broker = await fakeNativeBroker(handler);
  cleanups.push(broker.close);
  const sluice = new Sluice({ brokers: `127.0.0.1:${broker.port}`, retries: 1, retryBackoffMs: 10 });
  cleanups.push(() => sluice.close());
  return sluice;
}

const metadata = (port: number): AnyBody => ({
  errorCode: 0,
  controllerId: 0,
  brokers: [{ nodeId: 0, host: '127.0.0.1', port }],
  topics: [
    {
      name: 't',
      errorCode: 0,
      partitions: [{ partition: 0, errorCode: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0] }],
    },
  ],
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('wire errors in the client', () => {
  it('get their own code and Kafka retriability at the seam', () => {
    const afterAppend = wireError(WireError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, 'produce t-0', 'the ISR shrank');
    expect(afterAppend.code).toBe(ErrorCode.NotEnoughReplicasAfterAppend);
    expect(afterAppend.message).toBe('produce t-0: NOT_ENOUGH_REPLICAS_AFTER_APPEND (20): the ISR shrank');
    expect(isRetriableError(afterAppend)).toBe(true);
    const notCoordinator = wireError(WireError.NOT_COORDINATOR, 'heartbeat');
    expect(notCoordinator.code).toBe(ErrorCode.NotCoordinator);
    expect(isRetriableError(notCoordinator)).toBe(true);
    expect(() => checkTopLevel({ errorCode: WireError.NOT_COORDINATOR }, 'sync group')).toThrow(
      expect.objectContaining({ code: ErrorCode.NotCoordinator }),
    );
    // the codes that are not retriable stay final; an unknown number is a generic broker error
    expect(isRetriableError(wireError(WireError.INVALID_CONFIG, 'x'))).toBe(false);
    expect(wireError(WireError.UNKNOWN_SERVER_ERROR, 'x').code).toBe(ErrorCode.BrokerError);
    expect(wireError(4242, 'x')).toMatchObject({ code: ErrorCode.BrokerError, message: 'x: ERROR_4242 (4242)' });
    // the client's own transport errors are marked retriable; other errors are not
    expect(isRetriableError(markRetriable(new SluiceError(ErrorCode.BrokerUnreachable, 'gone')))).toBe(true);
    expect(isRetriableError(new SluiceError(ErrorCode.NotLeader, 'made here'))).toBe(false);
    expect(isRetriableError(new Error('plain'))).toBe(false);
  });

  it('a produce answered NOT_ENOUGH_REPLICAS_AFTER_APPEND fails with that code, after the retries', async () => {
    let produces = 0;
    const sluice = await client((apiKey, _body, port) => {
      if (apiKey === ApiKey.Metadata) return metadata(port);
      if (apiKey !== ApiKey.Produce) return { errorCode: WireError.INVALID_REQUEST };
      produces++;
      return {
        errorCode: 0,
        topics: [
          {
            name: 't',
            partitions: [
              {
                partition: 0,
                errorCode: WireError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                errorMessage: 'the ISR shrank',
                baseOffset: -1,
                logAppendTimeMs: -1,
                logStartOffset: -1,
              },
            ],
          },
        ],
      };
    });
    const producer = sluice.producer({ acks: -1 });
    const err = await rejection(producer.send({ topic: 't', messages: [{ value: 'v', partition: 0 }] }));
    expect(isSluiceError(err, ErrorCode.NotEnoughReplicasAfterAppend)).toBe(true);
    expect(produces).toBeGreaterThan(1); // retriable: it was tried again
    await producer.close();
  });

  it('a group request answered NOT_COORDINATOR fails with that code, not a generic broker error', async () => {
    const sluice = await client((apiKey, _body, port) => {
      if (apiKey === ApiKey.Metadata) return metadata(port);
      if (apiKey === ApiKey.FindCoordinator) return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port };
      if (apiKey === ApiKey.OffsetFetch || apiKey === ApiKey.DescribeGroups) {
        return { errorCode: WireError.NOT_COORDINATOR, errorMessage: 'moved', topics: [], groups: [] };
      }
      return { errorCode: WireError.INVALID_REQUEST };
    });
    const err = await rejection(sluice.admin().describeGroup('g'));
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).toMatchObject({ code: ErrorCode.NotCoordinator });
    expect((err as SluiceError).code).not.toBe(ErrorCode.BrokerError);
  });
});
