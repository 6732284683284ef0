/**
 * SCRAM and PLAIN mechanics (src/security/scram.ts): RFC 7677's SCRAM-SHA-256
 * exchange byte for byte on both sides, SHA-512 round trips, Kafka's stored
 * credential text form, and the strict parser refusing what RFC 5802 or
 * Sluice's bounds do not allow.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeSaslName,
  encodeSaslName,
  formatCredential,
  parseClientFirst,
  parseCredential,
  parsePlain,
  plainMessage,
  ScramClient,
  type ScramCredential,
  ScramServer,
  scramCredential,
  verifyPassword,
} from '../../../src/security/scram.js';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';
import { saslMessageBytesMax } from '../../../src/shared/limits.js';

// RFC 7677 section 3: user "user", password "pencil"
const rfc = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
};

function authFailure(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe(ErrorCode.SaslAuthenticationFailed);
    return err as SluiceError;
  }
  throw new Error('expected a SaslAuthenticationFailed error');
}

describe('SCRAM-SHA-256 against RFC 7677', () => {
  it('the client sends the RFC messages', async () => {
    const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', rfc.clientNonce);
    expect(client.first().toString()).toBe(rfc.clientFirst);
    expect((await client.final(Buffer.from(rfc.serverFirst))).toString()).toBe(rfc.clientFinal);
    expect(() => client.verify(Buffer.from(rfc.serverFinal))).not.toThrow();
    authFailure(() => client.verify(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl96G4=')));
  });

  it('the server answers the RFC messages from a credential made with the RFC salt', async () => {
    const credential = await scramCredential('SCRAM-SHA-256', 'pencil', { salt: rfc.salt, iterations: 4096 });
    const server = new ScramServer('SCRAM-SHA-256', (u) => (u === 'user' ? credential : undefined), rfc.serverNonce);
    expect(server.clientFirst(Buffer.from(rfc.clientFirst)).toString()).toBe(rfc.serverFirst);
    expect(server.clientFinal(Buffer.from(rfc.clientFinal)).toString()).toBe(rfc.serverFinal);
    expect(server.user).toBe('user');
  });

  it('refuses a wrong proof, a replayed nonce and an unknown user', async () => {
    const credential = await scramCredential('SCRAM-SHA-256', 'pencil', { salt: rfc.salt });
    const lookup = (u: string) => (u === 'user' ? credential : undefined);
    const wrong = new ScramServer('SCRAM-SHA-256', lookup, rfc.serverNonce);
    wrong.clientFirst(Buffer.from(rfc.clientFirst));
    authFailure(() => wrong.clientFinal(Buffer.from(rfc.clientFinal.replace('p=dHzb', 'p=dHzc'))));
    // the same final message against another server nonce: the nonce no longer matches
    const replay = new ScramServer('SCRAM-SHA-256', lookup, 'another-nonce');
    replay.clientFirst(Buffer.from(rfc.clientFirst));
    authFailure(() => replay.clientFinal(Buffer.from(rfc.clientFinal)));
    const unknown = new ScramServer('SCRAM-SHA-256', lookup);
    authFailure(() => unknown.clientFirst(Buffer.from('n,,n=nobody,r=abc')));
    // a second first message is out of order
    const twice = new ScramServer('SCRAM-SHA-256', lookup);
    twice.clientFirst(Buffer.from(rfc.clientFirst));
    authFailure(() => twice.clientFirst(Buffer.from(rfc.clientFirst)));
  });
});

describe('SCRAM round trips', () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`${mechanism}: client and server agree; a wrong password fails at the proof`, async () => {
      const credential = await scramCredential(mechanism, 'sécret, with = signs');
      const lookup = (u: string): ScramCredential | undefined => (u === 'a,b=c' ? credential : undefined);
      const server = new ScramServer(mechanism, lookup);
      const client = new ScramClient(mechanism, 'a,b=c', 'sécret, with = signs');
      expect(client.first().toString()).toMatch(/^n,,n=a=2Cb=3Dc,r=/);
      const serverFirst = server.clientFirst(client.first());
      client.verify(server.clientFinal(await client.final(serverFirst)));
      expect(server.user).toBe('a,b=c');

      const server2 = new ScramServer(mechanism, lookup);
      const wrong = new ScramClient(mechanism, 'a,b=c', 'guess');
      const final = await wrong.final(server2.clientFirst(wrong.first()));
      authFailure(() => server2.clientFinal(final));
    });
  }

  it('PLAIN is checked against the stored credential', async () => {
    const credential = await scramCredential('SCRAM-SHA-512', 'pw', { iterations: 4096 });
    expect(await verifyPassword('SCRAM-SHA-512', credential, 'pw')).toBe(true);
    expect(await verifyPassword('SCRAM-SHA-512', credential, 'pW')).toBe(false);
  });
});

describe('parsing', () => {
  it("decodes and encodes saslname escapes, refusing other '=' sequences", () => {
    expect(encodeSaslName('a=b,c')).toBe('a=3Db=2Cc');
    expect(decodeSaslName('a=3Db=2Cc')).toBe('a=b,c');
    authFailure(() => decodeSaslName('a=4Fb'));
    authFailure(() => decodeSaslName('a='));
  });

  it('refuses channel binding, authorization ids of another user, extensions and missing attributes', () => {
    for (const bad of [
      'y,,n=user,r=abc',
      'p=tls-unique,,n=user,r=abc',
      'n,a=other,n=user,r=abc',
      'n,,n=user,r=abc,tokenauth=true',
      'n,,m=x,n=user,r=abc',
      'n,,r=abc,n=user',
      'n,,n=,r=abc',
      'n,,n=user,r=',
      'n,,n=user',
      'n,n=user,r=abc',
      '',
    ]) {
      authFailure(() => parseClientFirst(Buffer.from(bad)));
    }
    expect(parseClientFirst(Buffer.from('n,a=user,n=user,r=abc')).user).toBe('user');
    authFailure(() => parseClientFirst(Buffer.from(`n,,n=user,r=${'x'.repeat(saslMessageBytesMax)}`)));
  });

  it('bounds and checks PLAIN messages', () => {
    expect(parsePlain(plainMessage('alice', 'pw'))).toEqual({ user: 'alice', password: 'pw' });
    expect(parsePlain(Buffer.from('alice\u0000alice\u0000pw'))).toEqual({ user: 'alice', password: 'pw' });
    for (const bad of [
      'bob\u0000alice\u0000pw',
      '\u0000alice',
      '\u0000\u0000pw',
      '\u0000alice\u0000',
      'a\u0000b\u0000c\u0000d',
    ]) {
      authFailure(() => parsePlain(Buffer.from(bad)));
    }
    authFailure(() => parsePlain(plainMessage('alice', 'p'.repeat(saslMessageBytesMax))));
  });

  it("round-trips Kafka's credential text and refuses a malformed one", async () => {
    const credential = await scramCredential('SCRAM-SHA-256', 'pencil', { salt: rfc.salt });
    const text = formatCredential(credential);
    expect(text).toMatch(/^salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=[^,]+,server_key=[^,]+,iterations=4096$/);
    expect(parseCredential(text)).toEqual(credential);
    expect(() => parseCredential('salt=abc,iterations=4096')).toThrow(/stored_key/);
    expect(() => parseCredential(text.replace('iterations=4096', 'iterations=x'))).toThrow(/iterations/);
  });

  it('refuses iterations outside 4096..16384', async () => {
    await expect(scramCredential('SCRAM-SHA-256', 'pw', { iterations: 4095 })).rejects.toThrow(
      /between 4096 and 16384/,
    );
    await expect(scramCredential('SCRAM-SHA-256', 'pw', { iterations: 16385 })).rejects.toThrow(/between/);
  });
});
