/**
 * The order of a transacted session's writes at commit, and what a failed
 * commit reports.
 *
 * A commit spanning several queues is one Kafka transaction (session.ts,
 * session-txn.ts: all visible or none). The plan below is the
 * non-transactional one, used now for a commit touching a single queue (one
 * write: its sends and acknowledgements as one batch); it was the multi-queue
 * plan before issue 21 and keeps its rule: every send is stored before any
 * acknowledgement of another queue. A message received from `in` is then
 * acknowledged only once the outputs of the transaction are stored, so a
 * crash or a failed write between the two duplicates (the input comes again
 * and its outputs are written twice) and never loses (an input acknowledged
 * whose outputs were never written).
 *
 * The plan, in phases (the writes of one phase run side by side; a phase
 * starts once the previous one is wholly stored, and nothing after a failed
 * phase is written):
 *   1. the sends of every queue, except one queue that also has
 *      acknowledgements (the pivot, when there is one);
 *   2. the pivot's sends and acknowledgements as ONE batch (atomic on that
 *      queue; with a single queue this is the whole commit, as before);
 *   3. the acknowledgements of the other queues.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';

/** What one queue has to commit. */
export interface QueueCommitWork {
  queue: string;
  hasSends: boolean;
  hasAcks: boolean;
}

/** One write of the plan: the queue's buffered sends and/or its acknowledgements, as one QueueSend. */
export interface CommitWrite {
  queue: string;
  sends: boolean;
  acks: boolean;
}

/** The writes of a commit in phases (see the file comment); empty phases are left out. */
export function commitPlan(work: QueueCommitWork[]): CommitWrite[][] {
  const pivot = work.find((w) => w.hasSends && w.hasAcks);
  const sends: CommitWrite[] = work
    .filter((w) => w.hasSends && w !== pivot)
    .map((w) => ({ queue: w.queue, sends: true, acks: false }));
  const acks: CommitWrite[] = work
    .filter((w) => w.hasAcks && w !== pivot)
    .map((w) => ({ queue: w.queue, sends: false, acks: true }));
  const phases = [sends, pivot ? [{ queue: pivot.queue, sends: true, acks: true }] : [], acks];
  return phases.filter((p) => p.length > 0);
}

/** Per queue of a failed commit: whether its sends and its acknowledgements are stored (true too when it had none). */
export interface QueueCommitStatus {
  queue: string;
  sendsStored: boolean;
  acksStored: boolean;
}

/**
 * commit() failed: `committed` lists the queues whose sends and
 * acknowledgements are all stored (they stay: rollback() cannot undo them),
 * `uncommitted` the queues with something not stored (rollback() drops those
 * sends and releases those received messages; commit() again retries them).
 * A write whose answer was lost counts as not stored: it may have been
 * stored, so a retry may duplicate it, but an acknowledgement is never
 * written before the sends it depends on are known to be stored.
 *
 * `code` is PartialCommit when something was stored, else the failed
 * write's own code (nothing changed: as if commit() had not been called).
 */
export class SessionCommitError extends SluiceError {
  readonly committed: string[];
  readonly uncommitted: string[];
  readonly queues: QueueCommitStatus[];

  /**
   * A commit spanning queues (one Kafka transaction) whose EndTxn answer was lost: nothing is
   * known to be committed, but the coordinator may have committed it; rollback() finds out.
   */
  readonly inDoubt: boolean;

  /** Topics whose buffered publishes the failed commit carried: not committed (when inDoubt: as the coordinator decided). */
  readonly topics: string[];

  /** `partial`: some write of the commit was stored. */
  constructor(
    queues: QueueCommitStatus[],
    partial: boolean,
    cause: unknown,
    options: { inDoubt?: boolean; topics?: string[] } = {},
  ) {
    const committed = queues.filter((q) => q.sendsStored && q.acksStored).map((q) => q.queue);
    const uncommitted = queues.filter((q) => !(q.sendsStored && q.acksStored)).map((q) => q.queue);
    const why = cause instanceof Error ? cause.message : String(cause);
    const stored = queues.filter((q) => q.sendsStored && !q.acksStored).map((q) => q.queue);
    super(
      partial ? ErrorCode.PartialCommit : cause instanceof SluiceError ? cause.code : ErrorCode.BrokerError,
      `commit failed (${why}); committed: [${committed.join(', ')}]` +
        (stored.length > 0 ? `; sends stored, acknowledgements not: [${stored.join(', ')}]` : '') +
        `; not committed: [${uncommitted.join(', ')}]` +
        (options.topics?.length ? `; topic publishes not committed: [${options.topics.join(', ')}]` : '') +
        (options.inDoubt ? '; outcome in doubt (decided by the transaction coordinator: rollback() finds out)' : ''),
      { cause },
    );
    this.name = 'SessionCommitError';
    this.inDoubt = options.inDoubt ?? false;
    this.topics = options.topics ?? [];
    this.committed = committed;
    this.uncommitted = uncommitted;
    this.queues = queues;
  }
}
