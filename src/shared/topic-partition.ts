/**
 * The one key for a topic-partition in in-memory maps and sets, server and
 * client alike. NUL cannot occur in a partition number, so the key splits
 * back uniquely at its last NUL whatever the topic string holds (a legal
 * topic may end in '-', so `${topic}-${partition}` would make topic "a-"
 * partition 1 and topic "a" partition -1 the same key). The on-disk name of
 * a partition is another thing: storage/names.ts `partitionDirName`.
 */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The topic and partition a `topicPartitionKey` was made of (split at its last NUL). */
export function splitTopicPartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}
