/**
 * Cluster's answers without a promise (a producer and a consumer ask once per
 * request): freshTopic() and freshLeaderOf() give what topic() and leaderOf()
 * would give from the cache, and nothing once the metadata is stale, forgotten
 * or the client closed; openConnection() gives the connection
 * brokerConnection() gave while it is open and the metadata names the same
 * address, and nothing once it broke, so the caller asks brokerConnection()
 * (which reconnects).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseBrokers } from '../../../src/client/brokers.js';
import { Cluster } from '../../../src/client/cluster.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { type AnyBody, fakeNativeBroker } from '../../helpers/fake-native-broker.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function metadata(port: number, leader = 0): AnyBody {
  return {
    errorCode: 0,
    controllerId: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port }],
    topics: [
      {
        name: 't',
        errorCode: 0,
        partitions: [0, 1].map((p) => ({
          partition: p,
          errorCode: 0,
          leader,
          leaderEpoch: 0,
          replicas: [0],
          isr: [0],
        })),
      },
    ],
  };
}

async function setUp(): Promise<{ c: Cluster; metadataRequests: () => number; dropConnections: () => void }> {
  let requests = 0;
  let drop = false;
  const broker = await fakeNativeBroker((apiKey, _body, port, socket) => {
    if (drop) {
      // the connection breaks instead of answering
      drop = false;
      socket.destroy();
      return undefined;
    }
    if (apiKey === ApiKey.Metadata) {
      requests++;
      return metadata(port);
    }
    return { errorCode: 0 };
  });
  cleanups.push(broker.close);
  const c = new Cluster({
    brokers: parseBrokers(`127.0.0.1:${broker.port}`),
    clientId: 'fast-paths-test',
    connectTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    maxInFlight: 5,
    retries: 0,
    retryBackoffMs: 5,
    emit: () => undefined,
  });
  cleanups.push(() => c.close());
  return {
    c,
    metadataRequests: () => requests,
    dropConnections: () => {
      drop = true;
    },
  };
}

describe('Cluster fast paths', () => {
  it('freshTopic / freshLeaderOf answer from fresh metadata only, without a request', async () => {
    const { c, metadataRequests } = await setUp();
    expect(c.freshTopic('t')).toBeUndefined();
    expect(c.freshLeaderOf('t', 0)).toBeUndefined();
    expect(await c.leaderOf('t', 1)).toBe(0);
    const asked = metadataRequests();
    expect(c.freshTopic('t')?.partitions.length).toBe(2);
    expect(c.freshLeaderOf('t', 1)).toBe(0);
    // a partition the topic lacks: thrown as leaderOf() rejects
    expect(() => c.freshLeaderOf('t', 5)).toThrow(/has no partition 5/);
    expect(metadataRequests()).toBe(asked);
    c.invalidate('t');
    expect(c.freshTopic('t')).toBeUndefined();
    expect(c.freshLeaderOf('t', 0)).toBeUndefined();
    expect(await c.leaderOf('t', 0)).toBe(0);
    expect(c.freshLeaderOf('t', 0)).toBe(0);
    await c.close();
    expect(c.freshTopic('t')).toBeUndefined();
  });

  it('openConnection gives brokerConnection’s open connection, and nothing once it broke', async () => {
    const { c, dropConnections: dropNext } = await setUp();
    expect(await c.leaderOf('t', 0)).toBe(0);
    expect(c.openConnection(0)).toBeUndefined();
    const conn = await c.brokerConnection(0);
    expect(c.openConnection(0)).toBe(conn);
    // one per purpose: the fetch connection is another
    expect(c.openConnection(0, 'fetch')).toBeUndefined();
    const fetchConn = await c.brokerConnection(0, 'fetch');
    expect(fetchConn).not.toBe(conn);
    expect(c.openConnection(0, 'fetch')).toBe(fetchConn);
    dropNext();
    await expect(conn.send(ApiKey.Metadata, {})).rejects.toThrow();
    expect(c.openConnection(0)).toBeUndefined();
    // brokerConnection connects again, and that one is handed out from then on
    const again = await c.brokerConnection(0);
    expect(again).not.toBe(conn);
    expect(again.isOpen).toBe(true);
    expect(c.openConnection(0)).toBe(again);
    await c.close();
    expect(c.openConnection(0)).toBeUndefined();
  });
});
