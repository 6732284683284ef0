/** Helpers shared by the assignors (kept apart from index.ts so that no import cycle exists). */
import type { Subscription, TopicPartitions } from '../../protocol/native/consumer-protocol.js';

export interface GroupMember {
  memberId: string;
  subscription: Subscription;
}

export interface Assignor {
  /** The protocol name sent in JoinGroup (Kafka's: 'range', 'roundrobin', 'sticky'). */
  readonly name: string;
  /**
   * Every member's partitions. Every member appears in the result (possibly
   * with none); no partition is given twice; topics nobody subscribes to, or
   * missing from `partitionsPerTopic`, are not assigned.
   */
  assign(members: GroupMember[], partitionsPerTopic: Map<string, number>): Map<string, TopicPartitions[]>;
}

/** Members sorted by id: the order every assignor starts from (deterministic). */
export function sortedMembers(members: GroupMember[]): GroupMember[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/** Topic names sorted. */
export function sortedTopics(partitionsPerTopic: Map<string, number>): string[] {
  return [...partitionsPerTopic.keys()].sort();
}

/** Collects (member, topic, partition) picks into the result shape: topics sorted, partitions ascending. */
export class AssignmentBuilder {
  private readonly byMember = new Map<string, Map<string, number[]>>();

  constructor(members: GroupMember[]) {
    for (const m of members) this.byMember.set(m.memberId, new Map());
  }

  add(memberId: string, topic: string, partition: number): void {
    const topics = this.byMember.get(memberId);
    if (!topics) return;
    const list = topics.get(topic) ?? [];
    list.push(partition);
    topics.set(topic, list);
  }

  build(): Map<string, TopicPartitions[]> {
    const out = new Map<string, TopicPartitions[]>();
    for (const [memberId, topics] of this.byMember) {
      out.set(
        memberId,
        [...topics.keys()]
          .sort()
          .map((topic) => ({ topic, partitions: [...(topics.get(topic) ?? [])].sort((a, b) => a - b) })),
      );
    }
    return out;
  }
}
