/**
 * The login guard with real scrypt-hashed users: failures are slowed down
 * per user and per address, the right password is never refused because of
 * them, guesses cannot run in parallel, and every attempt is logged.
 * Timing is only ever asserted as a lower bound (serialised delays add up)
 * or as an order, never as an upper bound.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordsDirectory } from '../../../src/http/console-directory.js';
import { LoginGuard, type LoginOutcome } from '../../../src/http/login-guard.js';
import { hashPassword, parseUsers, type UserRecord } from '../../../src/http/users.js';
import { capturingLogger } from '../../helpers/capturing-logger.js';

let users: Map<string, UserRecord>;
const small = { delayMsMin: 5, delayMsMax: 20 };

beforeAll(async () => {
  users = parseUsers(
    [`alice=${await hashPassword('alice-pw', 'admin')}`, `bob=${await hashPassword('bob-pw', 'viewer')}`].join('\n'),
  );
});

const kinds = (outcomes: LoginOutcome[]): string[] => outcomes.map((o) => o.kind);

describe('login guard', () => {
  it('lets the right password in after many failures from the same address, and logs the attempts', async () => {
    const { logger, lines, text } = capturingLogger();
    const guard = new LoginGuard(new RecordsDirectory(users), logger, small);
    const failed: LoginOutcome[] = [];
    for (let i = 0; i < 12; i++) failed.push(await guard.check('alice', `guess-${i}`, '10.0.0.1', 'console'));
    expect(kinds(failed)).toEqual(Array(12).fill('wrong'));
    expect((await guard.check('alice', 'alice-pw', '10.0.0.1', 'console')).kind).toBe('ok');
    expect((await guard.check('alice', 'alice-pw', '10.0.0.1', 'basic')).kind).toBe('ok');
    expect((await guard.check('bob', 'bob-pw', '10.0.0.1', 'basic')).kind).toBe('ok');

    const failures = lines.filter((l) => l.msg === 'failed login');
    expect(failures).toHaveLength(12);
    expect(failures[0]).toMatchObject({
      level: 40,
      username: 'alice',
      remote: '10.0.0.1',
      via: 'console',
      failures: 1,
    });
    // the delay grows with each failure up to the cap
    const delays = failures.map((l) => l.delayMs as number);
    expect(delays.slice(0, 4)).toEqual([5, 10, 20, 20]);
    expect(delays.every((d, i) => i === 0 || d >= (delays[i - 1] as number))).toBe(true);
    const after = lines.filter((l) => l.msg === 'login after failed attempts');
    expect(after).toEqual([expect.objectContaining({ level: 30, username: 'alice', failedAttempts: 12 })]);
    expect(text()).not.toContain('guess-');
    expect(text()).not.toContain('alice-pw');
    guard.close();
  });

  it('checks one guess at a time per user: parallel guesses wait out each other’s delays', async () => {
    const { logger } = capturingLogger();
    const delays = { delayMsMin: 50, delayMsMax: 200 };
    const guard = new LoginGuard(new RecordsDirectory(users), logger, delays);
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => guard.check('alice', `guess-${i}`, `10.0.1.${i}`, 'basic')),
    );
    const elapsed = performance.now() - started;
    expect(kinds(outcomes)).toEqual(Array(8).fill('wrong'));
    // each failure holds alice's lane for 50, 100, 200, 200 ... ms: in parallel they would take ~one delay
    const serialisedMs = [50, 100, 200, 200, 200, 200, 200, 200].reduce((a, b) => a + b, 0);
    expect(elapsed).toBeGreaterThanOrEqual(serialisedMs - 5);
    guard.close();
  });

  it('a flood on one user from one address neither refuses nor queues the right password from another address behind it', async () => {
    const { logger, lines } = capturingLogger();
    const guard = new LoginGuard(new RecordsDirectory(users), logger, {
      delayMsMin: 20,
      delayMsMax: 40,
      waitersPerUserMax: 4,
    });
    const done: string[] = [];
    const flood = Array.from({ length: 12 }, (_, i) =>
      guard.check('alice', `guess-${i}`, '10.6.6.6', 'basic').then((o) => {
        done.push(`flood:${o.kind}`);
        return o;
      }),
    );
    // the same address's attempt beyond the full queue is the one refused ...
    const sameAddress = await guard.check('alice', 'alice-pw', '10.6.6.6', 'basic');
    expect(sameAddress.kind).toBe('busy');
    // ... while the right password from elsewhere gets a place, and the next turn
    const legit = guard.check('alice', 'alice-pw', '192.0.2.7', 'console').then((o) => {
      done.push(`legit:${o.kind}`);
      return o;
    });
    const other = guard.check('bob', 'bob-pw', '10.6.6.6', 'basic');
    expect((await legit).kind).toBe('ok');
    expect((await other).kind).toBe('ok');
    const floodOutcomes = await Promise.all(flood);
    expect(kinds(floodOutcomes).filter((k) => k === 'wrong').length).toBeGreaterThanOrEqual(2);
    expect(kinds(floodOutcomes).every((k) => k === 'wrong' || k === 'busy')).toBe(true);
    // served before the flood's waiting attempts that were still queued when it arrived
    expect(done.indexOf('legit:ok')).toBeLessThan(done.lastIndexOf('flood:wrong'));
    expect(lines.some((l) => l.msg === 'login refused: too many attempts waiting for this user')).toBe(true);
    guard.close();
  });

  it('unknown users cost no password check, are answered 401 and logged', async () => {
    const { logger, lines } = capturingLogger();
    const guard = new LoginGuard(new RecordsDirectory(users), logger, small);
    const long = 'x'.repeat(5000);
    expect((await guard.check('mallory', 'pw', '10.0.0.9', 'console')).kind).toBe('wrong');
    expect((await guard.check(long, 'pw', '10.0.0.9', 'basic')).kind).toBe('wrong');
    const logged = lines.filter((l) => l.msg === 'failed login: unknown user');
    expect(logged.map((l) => [l.username, l.addressFailures])).toEqual([
      ['mallory', 1],
      [`${'x'.repeat(64)}…`, 2],
    ]);
    // an address's failures on unknown users do not stop a known user's right password from it
    expect((await guard.check('bob', 'bob-pw', '10.0.0.9', 'basic')).kind).toBe('ok');
    guard.close();
  });

  it('closing refuses waiting attempts and cuts delays short', async () => {
    const { logger } = capturingLogger();
    const guard = new LoginGuard(new RecordsDirectory(users), logger, { delayMsMin: 60_000, delayMsMax: 60_000 });
    const first = guard.check('alice', 'nope', '10.0.0.1', 'basic');
    const second = guard.check('alice', 'alice-pw', '10.0.0.1', 'basic');
    await new Promise((r) => setTimeout(r, 300));
    guard.close();
    expect((await first).kind).toBe('wrong');
    expect((await second).kind).toBe('busy');
  });
});
