/**
 * The chaos suite's fault plan: what each round does, drawn from a seeded
 * PRNG (test/helpers/prng.ts) before the run, so one seed replays the same
 * plan. Which broker a fault hits follows from the plan and the cluster's
 * state at that moment (the leader of the planned partition, the controller).
 */
import { prng } from '../helpers/prng.js';

export const faultKinds = ['kill-leader', 'kill-controller', 'kill-follower', 'pause', 'kill-zookeeper'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface PlannedFault {
  round: number;
  kind: FaultKind;
  /** Index into the run's partition targets (kill-leader, kill-follower) or its brokers (pause). */
  target: number;
  /** Which follower of the partition (kill-follower): an index into its followers. */
  pick: number;
  /** How long the fault lasts: a killed process stays down, a paused one stays stopped past the session timeout by this. */
  holdMs: number;
  /** Load without faults after the cluster healed, before the next round. */
  settleMs: number;
}

export const holdMsMin = 1000;
export const holdMsMax = 5000;
export const settleMsMin = 1000;
export const settleMsMax = 4000;

/** `rounds` faults from `seed`; `targets` partitions and `brokers` brokers to choose from. */
export function planFaults(seed: number, rounds: number, targets: number, brokers: number): PlannedFault[] {
  const random = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  return Array.from({ length: rounds }, (_, round) => {
    const kind = faultKinds[int(0, faultKinds.length - 1)] as FaultKind;
    return {
      round: round + 1,
      kind,
      target: kind === 'pause' ? int(0, brokers - 1) : int(0, targets - 1),
      pick: int(0, 1),
      holdMs: int(holdMsMin, holdMsMax),
      settleMs: int(settleMsMin, settleMsMax),
    };
  });
}
