/**
 * A login lane serialises password checks for one user or one address: one
 * attempt holds it at a time (its check and, after a failure, the failure
 * delay), the others wait in a bounded list. This is what stops an attacker
 * from running guesses in parallel to get around the delay.
 *
 * Which waiter goes next: the one whose source (the address, in a user's
 * lane) has the fewest recent failures, oldest first among equals, so a
 * client from a quiet address is not stuck behind a flood from another one.
 *
 * When the list is full, by policy:
 * - 'drop-heaviest' (a user's lane): the newest attempt of the source with
 *   the most waiting attempts (then the most recent failures) is refused;
 *   on a tie that is the newcomer's own source. So a newcomer is refused
 *   only when its own address is (one of) the heaviest sources of that
 *   user's waiting attempts: one flooding address can never push out an
 *   attempt from another address.
 * - 'bypass' (an address's lane): the newcomer goes on without this lane;
 *   the user's lane still serialises its checks, so nobody is refused here.
 */

export type Turn = { kind: 'held'; release: () => void } | { kind: 'bypassed' } | { kind: 'refused' };

export interface LanePolicy {
  waitersMax: number;
  whenFull: 'drop-heaviest' | 'bypass';
  /** Recent failures of a source (an address or a username). */
  failuresOf: (source: string) => number;
}

interface Waiter {
  source: string;
  resolve: (turn: Turn) => void;
}

export class LoginLane {
  private held = false;
  private closed = false;
  /** Oldest first. */
  private readonly waiters: Waiter[] = [];

  constructor(private readonly policy: LanePolicy) {}

  get idle(): boolean {
    return !this.held && this.waiters.length === 0;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves when the attempt holds the lane (call `release` once done), or with why it does not. */
  acquire(source: string): Promise<Turn> {
    if (this.closed) return Promise.resolve({ kind: 'refused' });
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.turn());
    }
    return new Promise<Turn>((resolve) => {
      const newcomer: Waiter = { source, resolve };
      if (this.waiters.length < this.policy.waitersMax) {
        this.waiters.push(newcomer);
        return;
      }
      if (this.policy.whenFull === 'bypass') {
        resolve({ kind: 'bypassed' });
        return;
      }
      const victim = this.heaviest(newcomer);
      if (victim !== newcomer) {
        this.waiters.splice(this.waiters.indexOf(victim), 1);
        this.waiters.push(newcomer);
      }
      victim.resolve({ kind: 'refused' });
    });
  }

  /** Refuses every waiting attempt and any later one (shutdown). */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.resolve({ kind: 'refused' });
  }

  private turn(): Turn {
    let released = false;
    return {
      kind: 'held',
      release: () => {
        if (released) return;
        released = true;
        this.next();
      },
    };
  }

  private next(): void {
    let best: Waiter | undefined;
    let bestFailures = Number.POSITIVE_INFINITY;
    for (const w of this.waiters) {
      const failures = this.policy.failuresOf(w.source);
      if (failures < bestFailures) {
        best = w;
        bestFailures = failures;
      }
    }
    if (!best) {
      this.held = false;
      return;
    }
    this.waiters.splice(this.waiters.indexOf(best), 1);
    best.resolve(this.turn());
  }

  /** The newest attempt of the source with the most waiting attempts, then the most failures; the newcomer's on a tie. */
  private heaviest(newcomer: Waiter): Waiter {
    const counts = new Map<string, number>([[newcomer.source, 1]]);
    for (const w of this.waiters) counts.set(w.source, (counts.get(w.source) ?? 0) + 1);
    let source = newcomer.source;
    let most = counts.get(source) ?? 1;
    let failures = this.policy.failuresOf(source);
    for (const [s, n] of counts) {
      const f = this.policy.failuresOf(s);
      if (n > most || (n === most && f > failures)) {
        source = s;
        most = n;
        failures = f;
      }
    }
    if (source === newcomer.source) return newcomer;
    let victim = newcomer;
    for (const w of this.waiters) if (w.source === source) victim = w;
    return victim;
  }
}
