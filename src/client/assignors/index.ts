/**
 * Partition assignors: the group leader (a client) turns every member's
 * subscription into an assignment. Pure functions of their input: the same
 * members and partition counts always give the same assignment, so any
 * leader computes the same thing.
 */
import type { Assignor, GroupMember } from './common.js';
import { rangeAssignor } from './range.js';
import { roundRobinAssignor } from './round-robin.js';
import { stickyAssignor } from './sticky.js';

export type { Assignor, GroupMember };

export { rangeAssignor, roundRobinAssignor, stickyAssignor };

export const defaultAssignors: readonly Assignor[] = [rangeAssignor, roundRobinAssignor];

export function builtinAssignor(name: string): Assignor | undefined {
  return [rangeAssignor, roundRobinAssignor, stickyAssignor].find((a) => a.name === name);
}
