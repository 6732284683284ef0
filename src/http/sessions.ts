/** Console sessions (random 32-byte tokens, bounded, expiring) and the failed-login rate limiter. */
import { randomBytes } from 'node:crypto';
import type { Role } from './users.js';

export interface Session {
  username: string;
  role: Role;
  expiresAt: number;
}

/** The cookie that carries a session's token. */
export const sessionCookie = 'sluice_session';
export const sessionTtlMsDefault = 8 * 60 * 60 * 1000;
export const sessionsMaxDefault = 10_000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs = sessionTtlMsDefault,
    private readonly max = sessionsMaxDefault,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  create(username: string, role: Role): string {
    this.sweep();
    // bounded: the oldest session (first in insertion order) makes room
    while (this.sessions.size >= this.max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const token = randomBytes(32).toString('hex');
    this.sessions.set(token, { username, role, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  get(token: string): Session | undefined {
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    return s;
  }

  delete(token: string): void {
    this.sessions.delete(token);
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(token);
  }
}

/** At most `limit` failures per key in a sliding window; keys are bounded too. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 5,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  blocked(key: string): boolean {
    return this.recent(key).length >= this.limit;
  }

  fail(key: string): void {
    const list = this.recent(key);
    if (list.length === 0 && this.failures.size >= this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    list.push(this.now());
    this.failures.set(key, list);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }
}
