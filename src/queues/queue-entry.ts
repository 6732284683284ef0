/**
 * One pending queue message as the broker tracks it in memory (payloads stay
 * in the log), and the consumer that may hold it.
 */
export interface Entry {
  offset: number;
  deliveryCount: number;
  consumer: Consumer | undefined;
  lockedUntil: number;
  /** Not before this time (redelivery delay). */
  availableAt: number;
  expiresAt: number;
  /** Leaving the queue (an acknowledgement or a dead-lettering is being written). */
  leaving: boolean;
}

export interface Consumer {
  id: string;
  connectionId: number;
  held: Set<Entry>;
  prefetch: number;
  lockTimeoutMs: number;
}

/** The entry is no longer held by its consumer (if any). */
export function detach(entry: Entry): void {
  entry.consumer?.held.delete(entry);
  entry.consumer = undefined;
}
