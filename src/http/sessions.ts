/** Console sessions (random 32-byte tokens, bounded, expiring). Failed logins: login-guard.ts. */
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
