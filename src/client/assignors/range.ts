/**
 * Kafka's range assignor: per topic, the members subscribed to it (sorted by
 * id) each get a consecutive range of its partitions; the first
 * `partitions % members` get one more.
 */
import { AssignmentBuilder, type Assignor, sortedMembers, sortedTopics } from './common.js';

export const rangeAssignor: Assignor = {
  name: 'range',
  assign(members, partitionsPerTopic) {
    const out = new AssignmentBuilder(members);
    const sorted = sortedMembers(members);
    for (const topic of sortedTopics(partitionsPerTopic)) {
      const count = partitionsPerTopic.get(topic) ?? 0;
      const subscribers = sorted.filter((m) => m.subscription.topics.includes(topic));
      if (subscribers.length === 0 || count <= 0) continue;
      const each = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const n = each + (i < extra ? 1 : 0);
        for (let k = 0; k < n; k++) out.add(m.memberId, topic, next++);
      });
    }
    return out.build();
  },
};
