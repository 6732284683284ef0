/**
 * SASL mechanics, pure logic over node:crypto (no I/O): SCRAM-SHA-256 and
 * SCRAM-SHA-512 (RFC 5802, RFC 7677) for both sides, PLAIN (RFC 4616) for the
 * server, and Kafka's text form of a stored SCRAM credential.
 *
 * A SCRAM credential is what a broker keeps of a password: a random salt, the
 * iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
 * ServerKey = HMAC(SaltedPassword, "Server Key"), SaltedPassword being
 * PBKDF2-HMAC-H(password, salt, iterations). The password itself is never kept.
 * PLAIN is checked against the same credential: SaltedPassword is derived from
 * the password sent with the stored salt and iterations and its StoredKey is
 * compared (in constant time).
 *
 * Parsing is strict: every attribute is checked in RFC 5802's order, messages
 * and names are bounded (limits.ts), `saslname` escapes (=2C, =3D) are
 * decoded and any other '=' is refused; channel binding is refused
 * (gs2 header 'n,,' or 'n,a=<the same user>,' only: Kafka serves no
 * SCRAM-SHA-*-PLUS), and so are extensions Sluice does not serve.
 * Every failure throws SaslAuthenticationFailed; the listener answers every
 * such failure with one message that does not say whether the user exists.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import {
  saslMessageBytesMax,
  scramIterationsDefault,
  scramIterationsMax,
  scramIterationsMin,
  scramUserNameBytesMax,
} from '../shared/limits.js';
import type { SaslMechanism } from './security-protocol.js';

const pbkdf2Async = promisify(pbkdf2);

export const scramMechanisms = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof scramMechanisms)[number];

export function isScramMechanism(value: string): value is ScramMechanism {
  return (scramMechanisms as readonly string[]).includes(value);
}

/** Kafka's ScramMechanism type numbers (DescribeUserScramCredentials/AlterUserScramCredentials): 0 is UNKNOWN. */
export const scramMechanismType: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

export function scramMechanismOfType(type: number): ScramMechanism | undefined {
  return scramMechanisms.find((m) => scramMechanismType[m] === type);
}

const hashOf: Record<ScramMechanism, { name: 'sha256' | 'sha512'; bytes: number }> = {
  'SCRAM-SHA-256': { name: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { name: 'sha512', bytes: 64 },
};

/** What a broker stores of one user's password for one mechanism. */
export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

function fail(message: string): SluiceError {
  return new SluiceError(ErrorCode.SaslAuthenticationFailed, message);
}

function hmac(mechanism: ScramMechanism, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hashOf[mechanism].name, key).update(data).digest();
}

function hash(mechanism: ScramMechanism, data: Buffer): Buffer {
  return createHash(hashOf[mechanism].name).update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** Throws UnacceptableCredential unless `iterations` is within Kafka's bounds. */
export function checkIterations(iterations: number): void {
  if (!Number.isInteger(iterations) || iterations < scramIterationsMin || iterations > scramIterationsMax) {
    throw new SluiceError(
      ErrorCode.UnacceptableCredential,
      `iterations must be between ${scramIterationsMin} and ${scramIterationsMax}, not ${iterations}`,
    );
  }
}

/** PBKDF2 (off the event loop): RFC 5802's Hi(Normalize(password), salt, i). */
export function saltedPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const h = hashOf[mechanism];
  // RFC 5802 asks for SASLprep; like Kafka's ScramFormatter, the password's UTF-8 bytes are used as they are
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, h.bytes, h.name);
}

function keysOf(
  mechanism: ScramMechanism,
  salted: Buffer,
): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return { clientKey, storedKey: hash(mechanism, clientKey), serverKey: hmac(mechanism, salted, 'Server Key') };
}

/** A new credential for `password`: a random salt (as long as the hash, like Kafka's) unless one is given. */
export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  options: { iterations?: number; salt?: Buffer } = {},
): Promise<ScramCredential> {
  const iterations = options.iterations ?? scramIterationsDefault;
  checkIterations(iterations);
  const salt = options.salt ?? randomBytes(hashOf[mechanism].bytes);
  if (salt.length === 0) throw new SluiceError(ErrorCode.UnacceptableCredential, 'the salt is empty');
  const { storedKey, serverKey } = keysOf(mechanism, await saltedPassword(mechanism, password, salt, iterations));
  return { salt, storedKey, serverKey, iterations };
}

/**
 * The credential from a salted password (what Kafka's AlterUserScramCredentials
 * carries: the client derives it, so the password never reaches the broker).
 */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salt: Buffer,
  salted: Buffer,
  iterations: number,
): ScramCredential {
  checkIterations(iterations);
  if (salt.length === 0 || salt.length > 1024) {
    throw new SluiceError(ErrorCode.UnacceptableCredential, `the salt must have 1 to 1024 bytes, not ${salt.length}`);
  }
  if (salted.length !== hashOf[mechanism].bytes) {
    throw new SluiceError(
      ErrorCode.UnacceptableCredential,
      `a ${mechanism} salted password has ${hashOf[mechanism].bytes} bytes, not ${salted.length}`,
    );
  }
  const { storedKey, serverKey } = keysOf(mechanism, salted);
  return { salt: Buffer.from(salt), storedKey, serverKey, iterations };
}

/** True when `password` is the one `credential` was made from (PLAIN's check), compared in constant time. */
export async function verifyPassword(
  mechanism: ScramMechanism,
  credential: ScramCredential,
  password: string,
): Promise<boolean> {
  const salted = await saltedPassword(mechanism, password, credential.salt, credential.iterations);
  const { storedKey } = keysOf(mechanism, salted);
  return storedKey.length === credential.storedKey.length && timingSafeEqual(storedKey, credential.storedKey);
}

// ---- Kafka's text form: salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n> (ScramCredentialUtils) ----

export function formatCredential(c: ScramCredential): string {
  return `salt=${c.salt.toString('base64')},stored_key=${c.storedKey.toString('base64')},server_key=${c.serverKey.toString('base64')},iterations=${c.iterations}`;
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses Kafka's text form; throws InvalidConfig naming what is wrong. */
export function parseCredential(text: string): ScramCredential {
  const bad = (why: string) => new SluiceError(ErrorCode.InvalidConfig, `invalid SCRAM credential: ${why}`);
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) throw bad(`'${part.slice(0, 40)}' is not key=value`);
    fields.set(part.slice(0, at), part.slice(at + 1));
  }
  const b64 = (key: string): Buffer => {
    const value = fields.get(key);
    if (value === undefined || !base64Pattern.test(value)) throw bad(`${key} is missing or not base64`);
    return Buffer.from(value, 'base64');
  };
  const iterations = Number(fields.get('iterations'));
  if (!Number.isInteger(iterations) || iterations < 1) throw bad('iterations is missing or not a positive integer');
  return { salt: b64('salt'), storedKey: b64('stored_key'), serverKey: b64('server_key'), iterations };
}

// ---- saslname (RFC 5802 §5.1): ',' is sent as '=2C' and '=' as '=3D' ----

export function encodeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

export function decodeSaslName(text: string): string {
  if (/=(?!2C|3D)/.test(text)) throw fail("invalid saslname: '=' not followed by 2C or 3D");
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

// ---- message parsing ----

const printableNonce = /^[\x21-\x2b\x2d-\x7e]+$/;

function checkSize(message: Buffer): string {
  if (message.length === 0) throw fail('empty SASL message');
  if (message.length > saslMessageBytesMax) {
    throw fail(`SASL message of ${message.length} bytes exceeds ${saslMessageBytesMax}`);
  }
  const text = message.toString('utf8');
  if (text.includes('\u0000') || Buffer.byteLength(text) !== message.length || text.includes('\ufffd')) {
    throw fail('SASL message is not valid UTF-8 text');
  }
  return text;
}

/** Splits `a=v,b=w,...` expecting exactly the attribute letters `names`, in that order. */
function attributes(text: string, names: string[], what: string): string[] {
  const parts = text.split(',');
  if (parts.length !== names.length) {
    throw fail(`${what}: expected attributes ${names.join(',')}, got ${parts.length} attributes`);
  }
  return parts.map((part, i) => {
    const name = names[i] as string;
    if (part.length < 2 || part[0] !== name || part[1] !== '=') throw fail(`${what}: expected attribute ${name}=`);
    const value = part.slice(2);
    if (value.length === 0) throw fail(`${what}: attribute ${name} is empty`);
    return value;
  });
}

function checkUserName(name: string): string {
  if (name.length === 0) throw fail('empty user name');
  if (Buffer.byteLength(name) > scramUserNameBytesMax) throw fail(`user name over ${scramUserNameBytesMax} bytes`);
  return name;
}

export interface ClientFirst {
  user: string;
  nonce: string;
  /** The gs2 header as sent ('n,,' or 'n,a=<user>,'): client-final's c= must be its base64. */
  gs2Header: string;
  /** client-first-message-bare, part of AuthMessage. */
  bare: string;
}

export function parseClientFirst(message: Buffer): ClientFirst {
  const text = checkSize(message);
  // gs2-header = gs2-cbind-flag "," [ authzid ] ","
  const first = text.indexOf(',');
  const second = first < 0 ? -1 : text.indexOf(',', first + 1);
  if (first < 0 || second < 0) throw fail('client-first-message: no gs2 header');
  const flag = text.slice(0, first);
  if (flag !== 'n') {
    throw fail(`client-first-message: channel binding '${flag.slice(0, 10)}' is not supported (only 'n')`);
  }
  const authzid = text.slice(first + 1, second);
  const bare = text.slice(second + 1);
  // reserved-mext (m=) and extensions are refused: Sluice serves none
  const [n, r] = attributes(bare, ['n', 'r'], 'client-first-message') as [string, string];
  const user = checkUserName(decodeSaslName(n));
  if (authzid !== '') {
    if (!authzid.startsWith('a=') || decodeSaslName(authzid.slice(2)) !== user) {
      throw fail('client-first-message: an authorization id other than the user name is not supported');
    }
  }
  if (!printableNonce.test(r)) throw fail('client-first-message: the nonce has characters outside RFC 5802');
  return { user, nonce: r, gs2Header: text.slice(0, second + 1), bare };
}

export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

export function parseServerFirst(message: Buffer): ServerFirst {
  const text = checkSize(message);
  const [r, s, i] = attributes(text, ['r', 's', 'i'], 'server-first-message') as [string, string, string];
  if (!printableNonce.test(r)) throw fail('server-first-message: invalid nonce');
  if (!base64Pattern.test(s)) throw fail('server-first-message: the salt is not base64');
  const iterations = Number(i);
  if (!/^[1-9][0-9]{0,9}$/.test(i) || iterations < scramIterationsMin || iterations > scramIterationsMax) {
    throw fail(`server-first-message: iterations ${i.slice(0, 12)} out of bounds`);
  }
  return { nonce: r, salt: Buffer.from(s, 'base64'), iterations };
}

export interface ClientFinal {
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

export function parseClientFinal(message: Buffer): ClientFinal {
  const text = checkSize(message);
  const [c, r, p] = attributes(text, ['c', 'r', 'p'], 'client-final-message') as [string, string, string];
  if (!base64Pattern.test(p)) throw fail('client-final-message: the proof is not base64');
  return {
    channelBinding: c,
    nonce: r,
    proof: Buffer.from(p, 'base64'),
    withoutProof: text.slice(0, text.lastIndexOf(',p=')),
  };
}

// ---- the server side ----

/**
 * One SCRAM exchange on the broker: `clientFirst` answers the client's first
 * message with the salt, iterations and the nonces; `clientFinal` checks the
 * proof and answers the server signature. `lookup` gives the stored credential
 * (undefined for an unknown user: the exchange then fails at the proof, as a
 * wrong password does, with a made-up salt so that an observer cannot tell).
 */
export class ScramServer {
  private state: 'first' | 'final' | 'done' = 'first';
  private first: ClientFirst | undefined;
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly serverNonce: string = randomBytes(24).toString('base64url'),
  ) {}

  /** The user name of the exchange (after the first message). */
  get user(): string | undefined {
    return this.first?.user;
  }

  clientFirst(message: Buffer): Buffer {
    if (this.state !== 'first') throw fail('unexpected client-first-message');
    this.state = 'final';
    const first = parseClientFirst(message);
    this.first = first;
    // an unknown user fails here, as in Kafka's ScramSaslServer; the client sees the same message as for a wrong password
    const credential = this.lookup(first.user);
    if (!credential) throw fail('invalid credentials');
    this.credential = credential;
    this.nonce = first.nonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    return Buffer.from(this.serverFirst);
  }

  /** Checks the proof; returns server-final-message. Throws SaslAuthenticationFailed on any mismatch. */
  clientFinal(message: Buffer): Buffer {
    if (this.state !== 'final' || !this.first) throw fail('unexpected client-final-message');
    this.state = 'done';
    const final = parseClientFinal(message);
    if (final.channelBinding !== Buffer.from(this.first.gs2Header).toString('base64')) {
      throw fail('client-final-message: the channel binding does not match the gs2 header');
    }
    // Kafka's ScramSaslServer accepts a nonce that ends with the combined one (librdkafka repeats its own
    // nonce in front); the proof covers the message as sent either way
    if (!final.nonce.endsWith(this.nonce)) throw fail('client-final-message: the nonce does not match');
    const credential = this.credential;
    if (!credential) throw fail('invalid credentials');
    const authMessage = `${this.first.bare},${this.serverFirst},${final.withoutProof}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    if (final.proof.length !== clientSignature.length) throw fail('invalid credentials');
    const clientKey = xor(final.proof, clientSignature);
    const storedKey = hash(this.mechanism, clientKey);
    if (storedKey.length !== credential.storedKey.length || !timingSafeEqual(storedKey, credential.storedKey)) {
      throw fail('invalid credentials');
    }
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return Buffer.from(`v=${serverSignature.toString('base64')}`);
  }
}

// ---- the client side ----

/** One SCRAM exchange on the client: first() → final(serverFirst) → verify(serverFinal). */
export class ScramClient {
  private readonly bare: string;
  private serverSignature: Buffer | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    user: string,
    private readonly password: string,
    private readonly clientNonce: string = randomBytes(24).toString('base64url'),
  ) {
    this.bare = `n=${encodeSaslName(user)},r=${clientNonce}`;
  }

  first(): Buffer {
    return Buffer.from(`n,,${this.bare}`);
  }

  async final(serverFirstMessage: Buffer): Promise<Buffer> {
    const serverFirst = parseServerFirst(serverFirstMessage);
    if (!serverFirst.nonce.startsWith(this.clientNonce) || serverFirst.nonce.length === this.clientNonce.length) {
      throw fail('server-first-message: the nonce does not extend the client nonce');
    }
    const salted = await saltedPassword(this.mechanism, this.password, serverFirst.salt, serverFirst.iterations);
    const { clientKey, storedKey } = keysOf(this.mechanism, salted);
    const withoutProof = `c=biws,r=${serverFirst.nonce}`;
    const authMessage = `${this.bare},${serverFirstMessage.toString('utf8')},${withoutProof}`;
    const proof = xor(clientKey, hmac(this.mechanism, storedKey, authMessage));
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** Throws unless the server proved it holds the credential (server-final v=...). */
  verify(serverFinalMessage: Buffer): void {
    const text = checkSize(serverFinalMessage);
    if (text.startsWith('e=')) throw fail(`the server refused: ${text.slice(2, 200)}`);
    const [v] = attributes(text, ['v'], 'server-final-message') as [string];
    const expected = this.serverSignature;
    const got = Buffer.from(v, 'base64');
    if (!expected || got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw fail('server-final-message: the server signature does not verify');
    }
  }
}

// ---- PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd ----

export interface PlainMessage {
  user: string;
  password: string;
}

export function parsePlain(message: Buffer): PlainMessage {
  if (message.length === 0 || message.length > saslMessageBytesMax) {
    throw fail(`PLAIN message of ${message.length} bytes (1 to ${saslMessageBytesMax})`);
  }
  const first = message.indexOf(0);
  const second = first < 0 ? -1 : message.indexOf(0, first + 1);
  if (first < 0 || second < 0 || message.indexOf(0, second + 1) >= 0) {
    throw fail('PLAIN message: expected [authzid] NUL user NUL password');
  }
  const authzid = message.subarray(0, first).toString('utf8');
  const user = checkUserName(message.subarray(first + 1, second).toString('utf8'));
  const password = message.subarray(second + 1).toString('utf8');
  if (password.length === 0) throw fail('PLAIN message: empty password');
  // Kafka's PlainSaslServer: an authorization id must be the user itself
  if (authzid !== '' && authzid !== user) {
    throw fail('PLAIN message: an authorization id other than the user name is not supported');
  }
  return { user, password };
}

export function plainMessage(user: string, password: string): Buffer {
  return Buffer.concat([Buffer.from([0]), Buffer.from(user, 'utf8'), Buffer.from([0]), Buffer.from(password, 'utf8')]);
}

/** Kafka's spelling of a kafkajs mechanism name ('scram-sha-256' → 'SCRAM-SHA-256'). */
export function kafkaMechanismName(mechanism: string): SaslMechanism | undefined {
  const upper = mechanism.toUpperCase();
  return upper === 'PLAIN' || isScramMechanism(upper) ? upper : undefined;
}
