/**
 * The cluster id in ZooKeeper, at Kafka's path and with Kafka's JSON:
 *
 *   /cluster/id   {"version":"1","id":"<22 characters of URL-safe base64>"}
 *
 * The first broker of a cluster creates it; every broker reads it at start.
 * Two first brokers racing both try to create it: the loser's create fails
 * with NodeExists and it reads the winner's, so all agree on one id.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { isClusterId, newClusterId } from '../cluster-id.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';
import { parseZnode } from './zk-paths.js';

export const clusterPath = '/cluster';
export const clusterIdPath = '/cluster/id';

export interface ClusterIdZnode {
  version: '1';
  id: string;
}

function parseClusterId(data: string): string {
  const znode = parseZnode<ClusterIdZnode>(clusterIdPath, data, (v) => typeof v.id === 'string');
  if (!isClusterId(znode.id)) {
    throw new SluiceError(
      ErrorCode.InvalidConfig,
      `znode ${clusterIdPath} holds ${JSON.stringify(znode.id)}, not a cluster id (22 characters of URL-safe base64)`,
    );
  }
  return znode.id;
}

/** The cluster's id: the one in /cluster/id, created now when there is none. */
export async function loadOrCreateClusterId(zk: ZkClient): Promise<string> {
  const existing = await zk.get(clusterIdPath);
  if (existing) return parseClusterId(existing.data);
  await zk.ensurePath(clusterPath);
  const znode: ClusterIdZnode = { version: '1', id: newClusterId() };
  try {
    await zk.create(clusterIdPath, JSON.stringify(znode), 'persistent');
    return znode.id;
  } catch (err) {
    if (!isZkError(err, ZkCode.NodeExists)) throw err;
  }
  // another broker created it between our read and our create: its id is the cluster's
  const winner = await zk.get(clusterIdPath);
  if (!winner) throw new SluiceError(ErrorCode.BrokerError, `${clusterIdPath} was deleted while this broker read it`);
  return parseClusterId(winner.data);
}
