import { expect, it } from 'vitest';
import { assignReplicas } from '../../../src/coordination/zookeeper/controller.js';
import { assignNewPartitions } from '../../../src/coordination/zookeeper/partition-growth.js';

it("places new partitions as Kafka's addPartitions does: the assignment continued from the first partition's leader", () => {
  const brokers = [1, 2, 3];
  const existing = assignReplicas(brokers, 3, 2, 1, 1);
  const added = assignNewPartitions(existing, 7, brokers);
  expect(added).toHaveLength(4);
  // the same placement a topic created with 7 partitions at the same start would have
  expect([...existing, ...added]).toEqual(assignReplicas(brokers, 7, 2, 1, 1));
  for (const replicas of added) {
    expect(replicas).toHaveLength(2);
    expect(new Set(replicas).size).toBe(2);
  }
  // leaders keep spreading round-robin
  expect([...existing, ...added].map((r) => r[0])).toEqual([2, 3, 1, 2, 3, 1, 2]);
});

it('keeps the replication factor of partition 0 and refuses more replicas than live brokers', () => {
  expect(assignNewPartitions([[1, 2, 3]], 2, [1, 2, 3])[0]).toHaveLength(3);
  expect(() => assignNewPartitions([[1, 2, 3]], 2, [1, 2])).toThrow(/replication factor 3/);
});
