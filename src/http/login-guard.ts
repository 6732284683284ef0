/**
 * Checks admin API credentials (the console's session login and Basic auth
 * on every route, /metrics included) so that failures slow attackers down
 * but never lock out anyone who knows the password:
 *
 * - No refusal because of failures. A failed attempt is answered after a
 *   delay that doubles with each recent failure of its user and of its
 *   address (login-delay.ts); the delay decays once failures stop.
 * - No parallel guessing around the delay. Each known user has a lane and so
 *   does each address (login-lane.ts): one check at a time per user and per
 *   address, and a failed check keeps holding both lanes for its delay.
 *   Lanes are taken user first, then address, so two attempts never wait
 *   for each other in a circle.
 * - A full queue never pushes out another address's attempt. A user's lane
 *   refuses (429) only an attempt from the address holding the most of that
 *   user's waiting attempts; a correct password from a different address
 *   always gets a place and, being from an address with fewer failures, is
 *   checked next. An address's lane never refuses: only attempts that hold
 *   their user's lane wait for it (so at most one per known user), and were
 *   it ever full the attempt would go on without it. Behind a reverse proxy
 *   every client shares one address unless `http.trusted.proxies` names the
 *   proxy; there a flood on one user can still refuse that user's attempts
 *   through the proxy, never another user's, nor a session already open.
 * - Bounded CPU: password checks (PBKDF2 or, for a user still pending from
 *   the former users file, scrypt) run at most `checksConcurrentMax` at once
 *   broker-wide, and only for known users (each at most one at a time), so
 *   their waiters are bounded by the user store. Unknown users cost no
 *   hashing: they are answered 401 after the address's delay.
 * - Every failure is logged (user, address, never the password), and a
 *   user's login after failures is noted, rate-limited (login-log.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  loginAddressLanesMax,
  loginChecksConcurrentMax,
  loginFailureAddressesMax,
  loginFailureDelayMsMax,
  loginFailureDelayMsMin,
  loginFailureQuietMs,
  loginLogLinesPerSecondMax,
  loginTarpitsMax,
  loginWaitersPerAddressMax,
  loginWaitersPerUserMax,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { RateLimitedLog } from '../shared/rate-limited-log.js';
import type { ConsoleDirectory } from './console-directory.js';
import { FailureCounter, failureDelayMs } from './login-delay.js';
import { LoginLane, type Turn } from './login-lane.js';

export interface LoginThrottleOptions {
  delayMsMin: number;
  delayMsMax: number;
  quietMs: number;
  failureAddressesMax: number;
  waitersPerUserMax: number;
  waitersPerAddressMax: number;
  addressLanesMax: number;
  checksConcurrentMax: number;
  tarpitsMax: number;
  logLinesPerSecondMax: number;
}

export const loginThrottleDefaults: LoginThrottleOptions = {
  delayMsMin: loginFailureDelayMsMin,
  delayMsMax: loginFailureDelayMsMax,
  quietMs: loginFailureQuietMs,
  failureAddressesMax: loginFailureAddressesMax,
  waitersPerUserMax: loginWaitersPerUserMax,
  waitersPerAddressMax: loginWaitersPerAddressMax,
  addressLanesMax: loginAddressLanesMax,
  checksConcurrentMax: loginChecksConcurrentMax,
  tarpitsMax: loginTarpitsMax,
  logLinesPerSecondMax: loginLogLinesPerSecondMax,
};

/** 'busy': refused because too many attempts for this user wait, most of them from the same address. */
export type LoginOutcome = { kind: 'ok'; username: string } | { kind: 'wrong' } | { kind: 'busy' };

export type LoginVia = 'console' | 'basic';

/** Usernames come from clients (a Basic header may hold kilobytes): logs get at most this much of one. */
const loggedNameLengthMax = 64;

/** At most `max` tasks at once; the rest wait in order. */
class CheckSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.max) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // hand the slot straight to the next waiter, or give it back
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

export class LoginGuard {
  private readonly options: LoginThrottleOptions;
  private readonly userFailures: FailureCounter;
  private readonly addressFailures: FailureCounter;
  /** Failures of each known user since its last successful login, for the notice when it logs in. */
  private readonly unreported = new Map<string, number>();
  /** One per known user that has tried: bounded by the user store (and failures by usersMax). */
  private readonly userLanes = new Map<string, LoginLane>();
  /** One per address with an attempt in progress, dropped when idle. */
  private readonly addressLanes = new Map<string, LoginLane>();
  private readonly checks: CheckSlots;
  private readonly log: RateLimitedLog;
  private readonly stopping = new AbortController();
  private tarpits = 0;

  constructor(
    private readonly users: ConsoleDirectory,
    logger: Logger,
    options: Partial<LoginThrottleOptions> = {},
    now: () => number = Date.now,
  ) {
    this.options = { ...loginThrottleDefaults, ...options };
    this.userFailures = new FailureCounter(users.usersMax, this.options.quietMs, now);
    this.addressFailures = new FailureCounter(this.options.failureAddressesMax, this.options.quietMs, now);
    this.checks = new CheckSlots(this.options.checksConcurrentMax);
    this.log = new RateLimitedLog(
      logger,
      {
        linesPerWindow: this.options.logLinesPerSecondMax,
        windowMs: 1000,
        summary: 'login attempts not logged one by one (log rate limit)',
      },
      now,
    );
  }

  /** Seconds a refused client should wait before it tries again (Retry-After). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.delayMsMax / 1000));
  }

  async check(username: string, password: string, address: string, via: LoginVia): Promise<LoginOutcome> {
    if (!this.users.has(username)) return this.unknownUser(username, address, via);
    const userTurn = await this.userLane(username).acquire(address);
    if (userTurn.kind !== 'held') {
      this.log.warn({ remote: address, username, via }, 'login refused: too many attempts waiting for this user');
      return { kind: 'busy' };
    }
    const addressLane = this.addressLane(address);
    const addressTurn: Turn = addressLane ? await addressLane.acquire(username) : { kind: 'bypassed' };
    const releaseAddress = (): void => this.release(address, addressTurn);
    try {
      if (addressTurn.kind === 'refused') return { kind: 'busy' }; // shutting down
      if (await this.checks.run(() => this.users.verify(username, password))) {
        this.loggedIn(username, address, via);
        return { kind: 'ok', username };
      }
      const failures = this.userFailures.add(username);
      const addressFailures = this.addressFailures.add(address);
      this.unreported.set(username, (this.unreported.get(username) ?? 0) + 1);
      const userHoldMs = this.delayMs(failures);
      const addressHoldMs = this.delayMs(addressFailures);
      this.log.warn(
        { remote: address, username, via, failures, addressFailures, delayMs: Math.max(userHoldMs, addressHoldMs) },
        'failed login',
      );
      // both lanes stay held for their delays: the next guess for this user or from this address waits
      await Promise.all([
        this.pause(addressHoldMs).then(releaseAddress),
        this.pause(userHoldMs).then(() => this.release(undefined, userTurn)),
      ]);
      return { kind: 'wrong' };
    } finally {
      releaseAddress();
      this.release(undefined, userTurn);
    }
  }

  /** Refuses waiting attempts, cuts delays short and writes the pending log summary. */
  close(): void {
    this.stopping.abort();
    for (const lane of this.userLanes.values()) lane.close();
    for (const lane of this.addressLanes.values()) lane.close();
    this.log.flush();
  }

  private delayMs(failures: number): number {
    return failureDelayMs(failures, this.options.delayMsMin, this.options.delayMsMax);
  }

  private async unknownUser(username: string, address: string, via: LoginVia): Promise<LoginOutcome> {
    // nobody can log in as an unknown user, so no lane is needed; the address's delay still slows a scan
    const addressFailures = this.addressFailures.add(address);
    const delayMs = this.delayMs(addressFailures);
    const name = username.length > loggedNameLengthMax ? `${username.slice(0, loggedNameLengthMax)}…` : username;
    this.log.warn({ remote: address, username: name, via, addressFailures, delayMs }, 'failed login: unknown user');
    if (this.tarpits < this.options.tarpitsMax) {
      this.tarpits++;
      try {
        await this.pause(delayMs);
      } finally {
        this.tarpits--;
      }
    }
    return { kind: 'wrong' };
  }

  private loggedIn(username: string, address: string, via: LoginVia): void {
    const failedAttempts = this.unreported.get(username) ?? 0;
    if (failedAttempts === 0) return;
    this.unreported.delete(username);
    this.log.info({ remote: address, username, via, failedAttempts }, 'login after failed attempts');
  }

  private userLane(username: string): LoginLane {
    let lane = this.userLanes.get(username);
    if (!lane && this.userLanes.size >= this.users.usersMax) {
      // the store may hold more users than per-user state is kept for: idle lanes make room
      for (const [name, idle] of this.userLanes) if (idle.idle) this.userLanes.delete(name);
    }
    if (!lane) {
      lane = new LoginLane({
        waitersMax: this.options.waitersPerUserMax,
        whenFull: 'drop-heaviest',
        failuresOf: (address) => this.addressFailures.count(address),
      });
      this.userLanes.set(username, lane);
    }
    return lane;
  }

  /** The address's lane, or none when too many addresses have one (the attempt then goes on without). */
  private addressLane(address: string): LoginLane | undefined {
    let lane = this.addressLanes.get(address);
    if (!lane && this.addressLanes.size < this.options.addressLanesMax && !this.stopping.signal.aborted) {
      lane = new LoginLane({
        waitersMax: this.options.waitersPerAddressMax,
        whenFull: 'bypass',
        failuresOf: (username) => this.userFailures.count(username),
      });
      this.addressLanes.set(address, lane);
    }
    return lane;
  }

  /** Releases a turn (again is harmless); an address lane left idle is dropped. */
  private release(address: string | undefined, turn: Turn): void {
    if (turn.kind !== 'held') return;
    turn.release();
    if (address === undefined) return;
    const lane = this.addressLanes.get(address);
    if (lane?.idle) this.addressLanes.delete(address);
  }

  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping.signal.aborted) return;
    try {
      await sleep(ms, undefined, { signal: this.stopping.signal });
    } catch {
      // cut short at shutdown
    }
  }
}
