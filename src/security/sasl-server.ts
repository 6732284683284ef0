/**
 * One connection's SASL state on a SASL_PLAINTEXT or SASL_SSL listener
 * (Kafka's SaslServerAuthenticator, as pure logic): a SaslHandshake chooses
 * an enabled mechanism, SaslAuthenticate requests carry the mechanism's
 * messages until the user is authenticated. Until then the listener lets only
 * ApiVersions, SaslHandshake and SaslAuthenticate through (connection.ts).
 *
 * A handshake naming a mechanism that is not enabled, and any failed
 * authentication, is answered and then the connection is closed
 * (`mustClose`), as Kafka does; every failure to authenticate answers the same
 * message (Kafka's), so a client cannot tell an unknown user from a wrong
 * password. Re-authentication (KIP-368) is not offered: session_lifetime_ms is
 * 0 and an authenticated connection stays authenticated until it closes, as
 * with Kafka's default connections.max.reauth.ms=0.
 */
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { scramIterationsDefault } from '../shared/limits.js';
import { userPrincipal } from './principal.js';
import {
  isScramMechanism,
  parsePlain,
  type ScramCredential,
  type ScramMechanism,
  ScramServer,
  verifyPassword,
} from './scram.js';
import type { SaslMechanism } from './security-protocol.js';

/** The stored credential of a user for a SCRAM mechanism (PLAIN is checked against SCRAM-SHA-512, else SHA-256). */
export type CredentialLookup = (user: string, mechanism: ScramMechanism) => ScramCredential | undefined;

/**
 * Resolves true once the credential store holds every stored user, false when it
 * has not loaded within the broker's bound (the broker has only just started).
 */
export type CredentialsReady = () => Promise<boolean>;

/** Checked against for a PLAIN user without credentials (never matches: its keys are zeros). */
const unknownUserCredential: ScramCredential = {
  salt: Buffer.alloc(32),
  storedKey: Buffer.alloc(32),
  serverKey: Buffer.alloc(32),
  iterations: scramIterationsDefault,
};

/** The message of every failed authentication (Kafka's SaslServerAuthenticator's). */
export function authenticationFailedMessage(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}

export class SaslServerSession {
  private state: 'handshake' | 'authenticate' | 'authenticated' | 'failed' = 'handshake';
  private mechanism: SaslMechanism | undefined;
  private scram: ScramServer | undefined;
  private authenticatedUser: string | undefined;
  /** Why the last authentication failed (for the broker's log; never sent to the client). */
  failure: string | undefined;
  /** True once the answer being written must be the connection's last. */
  mustClose = false;
  /** Kafka's SaslHandshake v0: the next frames are raw SASL messages (until authenticated). */
  rawTokens = false;
  /**
   * True when the connection must close without an answer: the credentials had not
   * loaded in time. Kafka's clients retry a dropped connection, while any SaslAuthenticate
   * error (even a retriable code) ends their attempt for good.
   */
  closeUnanswered = false;

  constructor(
    readonly enabled: readonly SaslMechanism[],
    private readonly lookup: CredentialLookup,
    private readonly onAuthenticated: (user: string) => void,
    private readonly credentialsReady: CredentialsReady = () => Promise.resolve(true),
  ) {}

  get authenticated(): boolean {
    return this.state === 'authenticated';
  }

  get user(): string | undefined {
    return this.authenticatedUser;
  }

  /** Chooses the mechanism; throws UnsupportedSaslMechanism (and the connection closes) or IllegalSaslState. */
  handshake(mechanism: string, rawTokens = false): void {
    if (this.state !== 'handshake') {
      throw new SluiceError(ErrorCode.IllegalSaslState, 'SaslHandshake request not expected at this time');
    }
    const chosen = this.enabled.find((m) => m === mechanism);
    if (!chosen) {
      this.fail();
      throw new SluiceError(
        ErrorCode.UnsupportedSaslMechanism,
        `Unsupported SASL mechanism ${mechanism.slice(0, 64)}; enabled: ${this.enabled.join(', ')}`,
      );
    }
    this.mechanism = chosen;
    this.state = 'authenticate';
    this.rawTokens = rawTokens;
  }

  /**
   * One SaslAuthenticate: the mechanism's answer to the client's message.
   * Throws IllegalSaslState before a handshake, SaslAuthenticationFailed
   * (the connection then closes) when authentication fails.
   */
  async authenticate(message: Buffer): Promise<Buffer> {
    const mechanism = this.mechanism;
    if (this.state !== 'authenticate' || !mechanism) {
      throw new SluiceError(ErrorCode.IllegalSaslState, 'SaslAuthenticate request not expected at this time');
    }
    if (!(await this.credentialsReady())) {
      this.fail();
      this.closeUnanswered = true;
      this.failure = 'the credential store has not loaded yet (the broker is starting); the client may retry';
      throw new SluiceError(ErrorCode.BrokerNotReady, this.failure);
    }
    try {
      if (mechanism === 'PLAIN') {
        const { user, password } = parsePlain(message);
        const stored: ScramMechanism = this.lookup(user, 'SCRAM-SHA-512') ? 'SCRAM-SHA-512' : 'SCRAM-SHA-256';
        // an unknown user costs the same PBKDF2 work as a known one: the time taken does not tell them apart
        const credential = this.lookup(user, stored) ?? unknownUserCredential;
        const valid = await verifyPassword(stored, credential, password);
        if (credential === unknownUserCredential || !valid) {
          throw new SluiceError(ErrorCode.SaslAuthenticationFailed, `invalid credentials for user ${user}`);
        }
        this.succeed(user);
        return Buffer.alloc(0);
      }
      if (!isScramMechanism(mechanism)) throw new SluiceError(ErrorCode.SaslAuthenticationFailed, 'no mechanism');
      if (!this.scram) {
        this.scram = new ScramServer(mechanism, (user) => this.lookup(user, mechanism));
        return this.scram.clientFirst(message);
      }
      const final = this.scram.clientFinal(message);
      this.succeed(this.scram.user as string);
      return final;
    } catch (err) {
      this.fail();
      const user = this.scram?.user;
      this.failure = `${(err as Error).message}${user ? ` (user ${user})` : ''}`;
      throw new SluiceError(ErrorCode.SaslAuthenticationFailed, authenticationFailedMessage(mechanism), {
        cause: err,
      });
    }
  }

  /** A request other than the SASL ones before authentication (Kafka's IllegalSaslStateException): the connection closes. */
  refuse(reason: string): void {
    this.fail();
    this.failure = reason;
  }

  /** `User:<name>` once authenticated. */
  get principal(): string | undefined {
    return this.authenticatedUser === undefined ? undefined : userPrincipal(this.authenticatedUser);
  }

  private succeed(user: string): void {
    this.state = 'authenticated';
    this.authenticatedUser = user;
    this.scram = undefined;
    this.onAuthenticated(user);
  }

  private fail(): void {
    this.state = 'failed';
    this.mustClose = true;
  }
}
