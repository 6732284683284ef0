/**
 * A standalone broker (no zookeeper.connect) has nothing to move: a
 * reassignment is refused per partition with INVALID_REPLICA_ASSIGNMENT
 * saying so, a cancel with NO_REASSIGNMENT_IN_PROGRESS, an unknown partition
 * with UNKNOWN_TOPIC_OR_PARTITION, and the list of reassignments is empty —
 * through the client library and the CLI, with nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, Sluice } from '../../src/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';
import { CliRunner, expectOneLineError } from '../helpers/cli-runner.js';

let broker: BrokerProcess;
let sluice: Sluice;
const cli = new CliRunner();

beforeAll(async () => {
  broker = await BrokerProcess.start();
  sluice = new Sluice({ brokers: broker.address, clientId: 'standalone-reassign', retries: 1 });
}, 60_000);

afterAll(async () => {
  cli.killAll();
  await sluice?.close();
  await broker?.destroy();
}, 30_000);

describe('partition reassignment on a standalone broker', () => {
  it('answers with clear errors and an empty list', async () => {
    const topic = 'alone';
    await sluice.admin().createTopic({ topic, partitions: 1 });
    const refusal = (replicas: number[] | null, partition = 0) =>
      sluice
        .admin()
        .reassignPartitions({ partitions: [{ topic, partition, replicas }] })
        .then(
          () => undefined,
          (e: unknown) => e as Error & { code: string },
        );
    const moved = await refusal([0]);
    expect(moved).toMatchObject({ code: ErrorCode.InvalidReplicaAssignment });
    expect(moved?.message).toMatch(/standalone broker/);
    expect(await refusal(null)).toMatchObject({ code: ErrorCode.NoReassignmentInProgress });
    expect(await refusal([0], 3)).toMatchObject({ code: ErrorCode.UnknownPartition });
    expect(await sluice.admin().listPartitionReassignments()).toEqual([]);
    expect((await sluice.admin().describeTopic(topic)).partitions[0]?.replicas).toEqual([0]);

    const listed = await cli.run(['partition', 'reassign', '--list'], { brokers: broker.address });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim()).toBe('No partition reassignments in progress.');
    const cliMove = await cli.run(['partition', 'reassign', '--topic', topic, '--partition', '0', '--replicas', '0'], {
      brokers: broker.address,
    });
    expectOneLineError(cliMove, /INVALID_REPLICA_ASSIGNMENT.*standalone/);
    const usage = await cli.run(['partition', 'reassign', '--list', '--cancel'], { brokers: broker.address });
    expect(usage.code).toBe(2);
  }, 60_000);
});
