/**
 * One connection's SASL state (src/security/sasl-server.ts): the handshake
 * chooses an enabled mechanism, the exchange authenticates once, every
 * failure marks the connection to be closed with Kafka's one message, and
 * requests out of order are ILLEGAL_SASL_STATE.
 */
import { describe, expect, it } from 'vitest';
import { authenticationFailedMessage, SaslServerSession } from '../../../src/security/sasl-server.js';
import { plainMessage, ScramClient, type ScramCredential, scramCredential } from '../../../src/security/scram.js';
import { ErrorCode } from '../../../src/shared/errors.js';

async function users(): Promise<Map<string, ScramCredential>> {
  return new Map([['alice/SCRAM-SHA-256', await scramCredential('SCRAM-SHA-256', 'pw')]]);
}

function session(stored: Map<string, ScramCredential>, enabled = ['PLAIN', 'SCRAM-SHA-256'] as const) {
  const authenticated: string[] = [];
  const s = new SaslServerSession(
    enabled,
    (u, m) => stored.get(`${u}/${m}`),
    (u) => authenticated.push(u),
  );
  return { s, authenticated };
}

describe('SaslServerSession', () => {
  it('authenticates with SCRAM and with PLAIN against the stored SCRAM credential', async () => {
    const stored = await users();
    const scram = session(stored);
    scram.s.handshake('SCRAM-SHA-256');
    const client = new ScramClient('SCRAM-SHA-256', 'alice', 'pw');
    const serverFirst = await scram.s.authenticate(client.first());
    expect(scram.s.authenticated).toBe(false);
    client.verify(await scram.s.authenticate(await client.final(serverFirst)));
    expect(scram.s.authenticated).toBe(true);
    expect(scram.s.principal).toBe('User:alice');
    expect(scram.authenticated).toEqual(['alice']);
    // once authenticated, another handshake is out of order (no re-authentication)
    expect(() => scram.s.handshake('PLAIN')).toThrow(expect.objectContaining({ code: ErrorCode.IllegalSaslState }));
    expect(scram.s.mustClose).toBe(false);

    const plain = session(stored);
    plain.s.handshake('PLAIN');
    expect(await plain.s.authenticate(plainMessage('alice', 'pw'))).toEqual(Buffer.alloc(0));
    expect(plain.authenticated).toEqual(['alice']);
  });

  it('fails with one message for a wrong password and an unknown user, and marks the connection to close', async () => {
    const stored = await users();
    for (const [user, password] of [
      ['alice', 'guess'],
      ['nobody', 'pw'],
    ]) {
      const plain = session(stored);
      plain.s.handshake('PLAIN');
      await expect(plain.s.authenticate(plainMessage(user as string, password as string))).rejects.toMatchObject({
        code: ErrorCode.SaslAuthenticationFailed,
        message: authenticationFailedMessage('PLAIN'),
      });
      expect(plain.s.mustClose).toBe(true);
      expect(plain.s.failure).toContain(user);
      expect(plain.authenticated).toEqual([]);
      await expect(plain.s.authenticate(plainMessage('alice', 'pw'))).rejects.toMatchObject({
        code: ErrorCode.IllegalSaslState,
      });
    }
    const scram = session(stored);
    scram.s.handshake('SCRAM-SHA-256');
    await expect(scram.s.authenticate(Buffer.from('n,,n=nobody,r=abc'))).rejects.toMatchObject({
      message: authenticationFailedMessage('SCRAM-SHA-256'),
    });
  });

  it('refuses a mechanism that is not enabled (and closes), and SaslAuthenticate before a handshake', async () => {
    const stored = await users();
    const early = session(stored);
    await expect(early.s.authenticate(Buffer.from('x'))).rejects.toMatchObject({ code: ErrorCode.IllegalSaslState });
    const off = session(stored, ['SCRAM-SHA-256'] as never);
    expect(() => off.s.handshake('PLAIN')).toThrow(
      expect.objectContaining({ code: ErrorCode.UnsupportedSaslMechanism }),
    );
    expect(off.s.mustClose).toBe(true);
    const lower = session(stored);
    expect(() => lower.s.handshake('scram-sha-256')).toThrow(/Unsupported SASL mechanism/);
  });

  it('waits for the credential store to load before looking a user up', async () => {
    const stored = new Map<string, ScramCredential>();
    let markLoaded: (ready: boolean) => void = () => {};
    const ready = new Promise<boolean>((resolve) => {
      markLoaded = resolve;
    });
    const s = new SaslServerSession(
      ['PLAIN'],
      (u, m) => stored.get(`${u}/${m}`),
      () => {},
      () => ready,
    );
    s.handshake('PLAIN');
    const answer = s.authenticate(plainMessage('alice', 'pw'));
    // the user arrives with the store's load, after the request: it is still found
    for (const [k, v] of await users()) stored.set(k, v);
    markLoaded(true);
    expect(await answer).toEqual(Buffer.alloc(0));
    expect(s.principal).toBe('User:alice');
  });

  it('closes without an answer when the store has not loaded in time (clients retry a dropped connection)', async () => {
    const s = new SaslServerSession(
      ['SCRAM-SHA-256'],
      () => undefined,
      () => {},
      () => Promise.resolve(false),
    );
    s.handshake('SCRAM-SHA-256');
    await expect(s.authenticate(new ScramClient('SCRAM-SHA-256', 'alice', 'pw').first())).rejects.toMatchObject({
      code: ErrorCode.BrokerNotReady,
    });
    expect(s.mustClose).toBe(true);
    expect(s.closeUnanswered).toBe(true);
    expect(s.authenticated).toBe(false);
  });
});
