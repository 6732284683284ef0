/**
 * A sticky assignor (eager protocol): members keep the partitions they own
 * (their subscription's ownedPartitions) as far as balance allows, so a
 * rebalance moves as few partitions as possible. Then every unowned partition
 * goes to the eligible member holding the fewest, and partitions move from
 * the fullest members to eligible emptier ones until no member holds two
 * more than another that could take one of them.
 */
import { topicPartitionKey } from '../../shared/topic-partition.js';
import { AssignmentBuilder, type Assignor, sortedMembers, sortedTopics } from './common.js';

export const stickyAssignor: Assignor = {
  name: 'sticky',
  assign(members, partitionsPerTopic) {
    const sorted = sortedMembers(members);
    const subscribes = new Map(sorted.map((m) => [m.memberId, new Set(m.subscription.topics)]));
    const all: { topic: string; partition: number }[] = [];
    for (const topic of sortedTopics(partitionsPerTopic)) {
      if (!sorted.some((m) => subscribes.get(m.memberId)?.has(topic))) continue;
      const count = partitionsPerTopic.get(topic) ?? 0;
      for (let p = 0; p < count; p++) all.push({ topic, partition: p });
    }
    const exists = new Set(all.map((tp) => topicPartitionKey(tp.topic, tp.partition)));
    const eligible = (memberId: string, topic: string): boolean => subscribes.get(memberId)?.has(topic) ?? false;
    const held = new Map<string, { topic: string; partition: number }[]>(sorted.map((m) => [m.memberId, []]));
    const owner = new Map<string, string>();

    // 1. keep what is owned, valid and not claimed by an earlier member
    const eligibleCount = sorted.filter((m) => all.some((tp) => eligible(m.memberId, tp.topic))).length;
    const ceiling = eligibleCount === 0 ? 0 : Math.ceil(all.length / eligibleCount);
    for (const m of sorted) {
      const list = held.get(m.memberId) ?? [];
      for (const tp of m.subscription.ownedPartitions ?? []) {
        for (const partition of tp.partitions ?? []) {
          const key = topicPartitionKey(tp.topic, partition);
          if (!exists.has(key) || owner.has(key) || !eligible(m.memberId, tp.topic)) continue;
          if (list.length >= ceiling) continue;
          owner.set(key, m.memberId);
          list.push({ topic: tp.topic, partition });
        }
      }
    }
    // 2. every unowned partition to the eligible member holding the fewest
    for (const tp of all) {
      const key = topicPartitionKey(tp.topic, tp.partition);
      if (owner.has(key)) continue;
      let best: string | undefined;
      for (const m of sorted) {
        if (!eligible(m.memberId, tp.topic)) continue;
        if (best === undefined || (held.get(m.memberId)?.length ?? 0) < (held.get(best)?.length ?? 0))
          best = m.memberId;
      }
      if (best === undefined) continue;
      owner.set(key, best);
      held.get(best)?.push(tp);
    }
    // 3. even out: move one partition at a time from the fullest to an emptier eligible member (bounded)
    for (let moves = 0; moves < all.length; moves++) {
      let moved = false;
      const byLoad = [...sorted].sort(
        (a, b) => (held.get(b.memberId)?.length ?? 0) - (held.get(a.memberId)?.length ?? 0),
      );
      for (const from of byLoad) {
        const fromList = held.get(from.memberId) ?? [];
        for (const to of [...byLoad].reverse()) {
          const toList = held.get(to.memberId) ?? [];
          if (fromList.length - toList.length < 2) continue;
          let i = -1;
          for (let k = fromList.length - 1; k >= 0 && i < 0; k--) {
            if (eligible(to.memberId, (fromList[k] as { topic: string }).topic)) i = k;
          }
          if (i < 0) continue;
          const [tp] = fromList.splice(i, 1);
          if (tp) toList.push(tp);
          moved = true;
          break;
        }
        if (moved) break;
      }
      if (!moved) break;
    }
    const out = new AssignmentBuilder(sorted);
    for (const [memberId, list] of held) for (const tp of list) out.add(memberId, tp.topic, tp.partition);
    return out.build();
  },
};
