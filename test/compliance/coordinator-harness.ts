/**
 * What a Coordinator implementation hands the compliance suite
 * (coordinator-compliance.ts): a fresh cluster per test, its capabilities,
 * and the few helpers the tests share (waiting, an event recorder that checks
 * every reported state).
 */
import { expect, it } from 'vitest';
import type { BrokerEndpoint, Coordinator, PartitionState, TopicSpec } from '../../src/coordination/coordinator.js';

/** A running cluster with nothing in it yet but its brokers. */
export interface CoordinatorCluster {
  /** The coordinator under test (a new object after reopen()). */
  readonly coordinator: Coordinator;
  /** The endpoint the coordinator under test registered. */
  readonly endpoint: BrokerEndpoint;
  /** Every running coordinator, the one under test first. */
  members(): Coordinator[];
  /** Ends a running member other than the one under test: a broker leaving the cluster. */
  stopMember(brokerId: number): Promise<void>;
  /**
   * Closes the coordinator under test and what it keeps its state in (so only
   * what was stored durably survives) and starts a new one for the same
   * broker on the same store; returns it (also `coordinator` from now on).
   */
  reopen(): Promise<Coordinator>;
  /** Stops every member and removes what the cluster stored. */
  dispose(): Promise<void>;
}

export interface CoordinatorFactory {
  /** Why this implementation cannot run more than one broker (tests that need peers are skipped), or undefined. */
  singleBroker?: string;
  /** Why the ISR never changes here (every updateIsr is refused), or undefined when the leader can change it. */
  fixedIsr?: string;
  /** A fresh cluster (every member started and seeing every other) with no topics. */
  create(): Promise<CoordinatorCluster>;
}

/** What a test needs from its surroundings: the cluster and the recorder on the coordinator under test. */
export class ComplianceContext {
  private current: { cluster: CoordinatorCluster; events: EventRecorder } | undefined;

  set(cluster: CoordinatorCluster, events: EventRecorder): void {
    this.current = { cluster, events };
  }

  private get now(): { cluster: CoordinatorCluster; events: EventRecorder } {
    if (!this.current) throw new Error("no cluster: the suite's beforeEach did not run");
    return this.current;
  }

  get cluster(): CoordinatorCluster {
    return this.now.cluster;
  }

  get events(): EventRecorder {
    return this.now.events;
  }

  /** A running member other than the coordinator under test (optionally: the one with this id). */
  other(brokerId?: number): Coordinator {
    const self = this.cluster.coordinator.brokerId;
    const found = this.cluster
      .members()
      .find((m) => m.brokerId !== self && (brokerId === undefined || m.brokerId === brokerId));
    if (!found)
      throw new Error(
        `no running member other than broker ${self}${brokerId === undefined ? '' : ` with id ${brokerId}`}`,
      );
    return found;
  }

  /** The running member with this id. */
  member(brokerId: number): Coordinator {
    const found = this.cluster.members().find((m) => m.brokerId === brokerId);
    if (!found) throw new Error(`no running member with broker id ${brokerId}`);
    return found;
  }
}

/** `it`, or `it.skip` naming why when the implementation lacks what the test needs. */
export function itNeeds(missing: string | undefined, name: string, fn: () => Promise<void>): void {
  if (missing === undefined) it(name, fn);
  else it.skip(`${name} (skipped: ${missing})`, fn);
}

export const spec = (
  name: string,
  partitions = 1,
  replicationFactor = 1,
  configs: Record<string, string> = {},
): TopicSpec => ({ name, partitions, replicationFactor, configs });

/** `given` as a coordinator answers it: with the topic id the coordinator gave it (Kafka's form). */
export const stored = (given: TopicSpec): TopicSpec => ({
  ...given,
  topicId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as unknown as string,
});

/** Every change is seen within this (ZooKeeper watches on loopback take milliseconds). */
export const reactionMs = 10_000;

export async function eventually<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = reactionMs,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface StateEvent {
  state: PartitionState;
  previous: PartitionState | undefined;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Records a coordinator's events and checks each as it comes (the checks
 * every implementation's events must pass, whatever the test does):
 * leader ∈ ISR ⊆ replicas while there is a leader; `previous` is the state
 * reported last for that partition (none after the topic was deleted); and
 * the leader epoch never goes back within one life of a topic.
 */
export class EventRecorder {
  readonly states: StateEvent[] = [];
  readonly deleted: string[] = [];
  readonly problems: string[] = [];
  private readonly last = new Map<string, PartitionState>();
  private readonly unsubscribe: (() => void)[];

  constructor(coordinator: Coordinator) {
    // what the coordinator knows already counts as reported (a reopened one loaded it at start)
    for (const spec of coordinator.topics()) {
      for (let p = 0; p < spec.partitions; p++) {
        const state = coordinator.partitionState(spec.name, p);
        if (state) this.last.set(key(spec.name, p), structuredClone(state));
      }
    }
    this.unsubscribe = [
      coordinator.onPartitionStateChanged((state, previous) => this.onState(state, previous)),
      coordinator.onTopicDeleted((topic) => this.onDeleted(topic)),
    ];
  }

  private onState(state: PartitionState, previous: PartitionState | undefined): void {
    this.states.push({ state: structuredClone(state), previous: previous && structuredClone(previous) });
    const name = `${state.topic}-${state.partition}`;
    const last = this.last.get(key(state.topic, state.partition));
    if (JSON.stringify(previous) !== JSON.stringify(last)) {
      this.problems.push(`${name}: previous ${JSON.stringify(previous)}, but last reported ${JSON.stringify(last)}`);
    }
    if (last && state.leaderEpoch < last.leaderEpoch) {
      this.problems.push(`${name}: leader epoch went back from ${last.leaderEpoch} to ${state.leaderEpoch}`);
    }
    if (state.leader >= 0 && !state.isr.includes(state.leader)) {
      this.problems.push(`${name}: leader ${state.leader} not in ISR ${JSON.stringify(state.isr)}`);
    }
    if (!state.isr.every((id) => state.replicas.includes(id))) {
      this.problems.push(`${name}: ISR ${JSON.stringify(state.isr)} not within ${JSON.stringify(state.replicas)}`);
    }
    this.last.set(key(state.topic, state.partition), structuredClone(state));
  }

  private onDeleted(topic: string): void {
    this.deleted.push(topic);
    for (const k of [...this.last.keys()]) if (k.startsWith(`${topic}\u0000`)) this.last.delete(k);
  }

  /** The events for one topic (and partition), oldest first. */
  of(topic: string, partition?: number): StateEvent[] {
    return this.states.filter(
      (e) => e.state.topic === topic && (partition === undefined || e.state.partition === partition),
    );
  }

  stop(): void {
    for (const off of this.unsubscribe) off();
  }

  expectNoProblems(): void {
    expect(this.problems).toEqual([]);
  }
}

/** The state's own invariants: leader ∈ ISR ⊆ replicas (while it has a leader), replicas distinct. */
export function expectWellFormed(state: PartitionState | undefined, replicationFactor: number): PartitionState {
  if (!state) throw new Error('no partition state');
  const s = state;
  expect(s.replicas).toHaveLength(replicationFactor);
  expect(new Set(s.replicas).size).toBe(replicationFactor);
  for (const id of s.isr) expect(s.replicas).toContain(id);
  if (s.leader >= 0) expect(s.isr).toContain(s.leader);
  expect(s.leaderEpoch).toBeGreaterThanOrEqual(0);
  return s;
}
