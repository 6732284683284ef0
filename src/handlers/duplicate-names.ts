/**
 * Requests whose answers are keyed by name (a topic, a topic-partition) must
 * not name one thing twice: the answer could not say which entry it is for.
 * Kafka refuses such entries with INVALID_REQUEST; these handlers do too.
 */

/** The names that occur more than once in `names`. */
export function namedTwice(names: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) twice.add(name);
    else seen.add(name);
  }
  return twice;
}
