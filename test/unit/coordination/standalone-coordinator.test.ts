/**
 * The standalone coordinator (one broker, topics in the broker's LevelDB)
 * against the Coordinator compliance suite, on a real LevelDB in a temp dir:
 * reopen closes the database and opens it again.
 */

import { describe, expect, it } from 'vitest';
import type { BrokerEndpoint } from '../../../src/coordination/coordinator.js';
import { StandaloneCoordinator } from '../../../src/coordination/standalone/standalone-coordinator.js';
import { ErrorCode, isSluiceError } from '../../../src/shared/errors.js';
import { type IndexDb, openIndexDb } from '../../../src/storage/index-store.js';
import { type CoordinatorCluster, coordinatorCompliance } from '../../compliance/coordinator-compliance.js';
import { tempDir } from '../../helpers/temp-dir.js';

const endpoint: BrokerEndpoint = { nodeId: 0, host: '127.0.0.1', port: 19092, kafkaPort: 19093 };

async function standaloneCluster(): Promise<CoordinatorCluster> {
  const { dir, cleanup } = tempDir('sluice-standalone-coordinator-');
  let db: IndexDb | undefined;
  const open = async (): Promise<StandaloneCoordinator> => {
    db = await openIndexDb(dir);
    const coordinator = new StandaloneCoordinator(endpoint.nodeId, endpoint, db);
    await coordinator.start();
    return coordinator;
  };
  const stop = async (): Promise<void> => {
    await coordinator.close();
    await db?.close();
    db = undefined;
  };
  let coordinator = await open();
  return {
    get coordinator() {
      return coordinator;
    },
    endpoint,
    members: () => [coordinator],
    stopMember: async (brokerId) => {
      throw new Error(`a standalone cluster has no broker ${brokerId} besides the one under test`);
    },
    reopen: async () => {
      await stop();
      coordinator = await open();
      return coordinator;
    },
    dispose: async () => {
      await stop();
      cleanup();
    },
  };
}

coordinatorCompliance('standalone (LevelDB)', {
  singleBroker: 'standalone mode runs one broker',
  fixedIsr: "standalone mode's only replica is the leader, so its ISR never changes",
  create: standaloneCluster,
});

describe('StandaloneCoordinator before start()', () => {
  it('answers clusterId() with a retriable BrokerNotReady (its listeners open first), not a failed assertion', async () => {
    const { dir, cleanup } = tempDir('sluice-standalone-coordinator-early-');
    const db = await openIndexDb(dir);
    try {
      const early = new StandaloneCoordinator(endpoint.nodeId, endpoint, db);
      let err: unknown;
      try {
        early.clusterId();
      } catch (e) {
        err = e;
      }
      expect(isSluiceError(err, ErrorCode.BrokerNotReady)).toBe(true);
    } finally {
      await db.close();
      cleanup();
    }
  });
});
