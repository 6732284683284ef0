/**
 * Kafka's round-robin assignor: every partition of every subscribed topic
 * (sorted by topic, then partition) goes to the next member in id order that
 * subscribes to its topic.
 */
import { AssignmentBuilder, type Assignor, sortedMembers, sortedTopics } from './common.js';

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  assign(members, partitionsPerTopic) {
    const out = new AssignmentBuilder(members);
    const sorted = sortedMembers(members);
    if (sorted.length === 0) return out.build();
    let cursor = 0;
    for (const topic of sortedTopics(partitionsPerTopic)) {
      const count = partitionsPerTopic.get(topic) ?? 0;
      if (!sorted.some((m) => m.subscription.topics.includes(topic))) continue;
      for (let p = 0; p < count; p++) {
        // the next subscriber after the cursor (there is one: checked above)
        for (let k = 0; k < sorted.length; k++) {
          const m = sorted[(cursor + k) % sorted.length];
          if (m?.subscription.topics.includes(topic)) {
            out.add(m.memberId, topic, p);
            cursor = (cursor + k + 1) % sorted.length;
            break;
          }
        }
      }
    }
    return out.build();
  },
};
