/**
 * Every partition state the controller's election rules produce keeps the
 * invariants (checked over every small case, not samples): a leader, when
 * there is one, is in the ISR; the ISR lies within the replicas; the leader
 * epoch grows by one. A stored state that breaks them (a leader outside its
 * ISR) is a bug the rules assert on instead of propagating.
 */
import { describe, expect, it } from 'vitest';
import { electLeader, moveAway, preferredLeader } from '../../../src/coordination/zookeeper/controller.js';
import type { PartitionStateZnode } from '../../../src/coordination/zookeeper/zk-paths.js';
import { AssertionFailure } from '../../../src/shared/assert.js';

const replicas = [1, 2, 3];
const subsets = (ids: number[]): number[][] =>
  ids.reduce<number[][]>((all, id) => all.concat(all.map((s) => [...s, id])), [[]]);

/** Every well-formed stored state over replicas 1..3: leader in the ISR, or offline (-1). */
function storedStates(): PartitionStateZnode[] {
  const out: PartitionStateZnode[] = [];
  for (const isr of subsets(replicas)) {
    for (const leader of [-1, ...isr]) out.push({ controller_epoch: 1, leader, version: 1, leader_epoch: 4, isr });
  }
  return out;
}

function expectInvariants(next: PartitionStateZnode, state: PartitionStateZnode): void {
  if (next.leader !== -1) expect(next.isr).toContain(next.leader);
  for (const id of next.isr) expect(replicas).toContain(id);
  expect(next.leader_epoch).toBe(state.leader_epoch + 1);
}

describe('controller election rules keep the partition state invariants', () => {
  it('for every stored state, live set and unclean setting', () => {
    let produced = 0;
    for (const state of storedStates()) {
      for (const live of subsets(replicas)) {
        for (const unclean of [false, true]) {
          const next = electLeader(state, replicas, new Set(live), unclean, 2);
          if (next) {
            produced++;
            expectInvariants(next, state);
          }
          const preferred = preferredLeader(state, replicas, new Set(live), 2);
          if (preferred) expectInvariants(preferred, state);
        }
      }
    }
    expect(produced).toBeGreaterThan(50);
  });

  it('moving away from brokers (controlled shutdown) keeps them, never empties the ISR, never leaves a leader going away with an in-sync successor', () => {
    let produced = 0;
    for (const state of storedStates()) {
      if (state.leader !== -1 && !state.isr.includes(state.leader)) continue;
      for (const live of subsets(replicas)) {
        for (const away of subsets(replicas)) {
          const next = moveAway(state, replicas, new Set(away), new Set(live), 2);
          const successor = state.isr.some((id) => live.includes(id) && !away.includes(id));
          if (!next) {
            // nothing moved: nothing to move, or a leader going away with no live in-sync successor
            if (state.leader !== -1 && away.includes(state.leader)) expect(successor).toBe(false);
            else if (state.leader !== -1) expect(state.isr.filter((id) => away.includes(id))).toEqual([]);
            continue;
          }
          produced++;
          expectInvariants(next, state);
          expect(away).not.toContain(next.leader);
          // a new leader is live and was in sync (a dead leader not going away is electLeader's to replace)
          if (next.leader !== state.leader) expect(live).toContain(next.leader);
          expect(state.isr).toContain(next.leader);
          expect(next.isr.filter((id) => away.includes(id))).toEqual([]);
          expect(next.isr.length).toBeGreaterThan(0);
        }
      }
    }
    expect(produced).toBeGreaterThan(20);
  });

  it('asserts on a stored state whose live leader is outside its ISR', () => {
    const broken: PartitionStateZnode = { controller_epoch: 1, leader: 1, version: 1, leader_epoch: 4, isr: [2, 3] };
    expect(() => electLeader(broken, replicas, new Set([1, 2]), false, 2)).toThrow(AssertionFailure);
  });
});
