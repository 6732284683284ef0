/**
 * `work` over every item with at most `limit` running at once; the results in the items' order.
 * The first failure is thrown once every started item has settled (nothing is left running).
 * Used wherever many independent waits (log opens, ZooKeeper requests) would otherwise run one
 * after another, with the bound keeping what is in flight finite.
 */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await work(items[i] as T, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
  return results;
}
