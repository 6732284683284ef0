/**
 * The native SASL and SCRAM-credential APIs (issue 17), Kafka's numbers and
 * fields: SaslHandshake (17), SaslAuthenticate (36),
 * DescribeUserScramCredentials (50), AlterUserScramCredentials (51). A SCRAM
 * mechanism travels as Kafka's type number (1 SCRAM-SHA-256, 2 SCRAM-SHA-512);
 * an upsertion carries the salt and the salted password, never the password
 * (the client derives it, as Kafka's admin client does).
 */
import { scramUserNameBytesMax, scramUsersPerRequestMax } from '../../shared/limits.js';
import type { ErrorFields } from './messages.js';
import { boolean, bytes, type Infer, int32, intIn, list, nullable, object, optional, text } from './shape.js';

const int8 = intIn(-128, 127, 'an int8');

const user = text(scramUserNameBytesMax);

export const saslHandshakeRequest = object({
  mechanism: text(64),
  /**
   * Kafka's SaslHandshake v0: the SASL messages then come as raw frames (a
   * size and the message, no request header) instead of SaslAuthenticate
   * requests (Kafka listener only).
   */
  rawTokens: optional(boolean),
});
export type SaslHandshakeRequest = Infer<typeof saslHandshakeRequest>;
export interface SaslHandshakeResponse extends ErrorFields {
  /** The mechanisms this listener accepts. */
  mechanisms: string[];
}

export const saslAuthenticateRequest = object({ authBytes: bytes });
export type SaslAuthenticateRequest = Infer<typeof saslAuthenticateRequest>;
export interface SaslAuthenticateResponse extends ErrorFields {
  authBytes: Buffer;
  /** KIP-368: how long the session may last before re-authentication; 0: no limit. */
  sessionLifetimeMs: number;
}

export const describeUserScramCredentialsRequest = object({
  /** null: every user with credentials. */
  users: nullable(list(user, scramUsersPerRequestMax)),
});
export type DescribeUserScramCredentialsRequest = Infer<typeof describeUserScramCredentialsRequest>;
export interface DescribedUserScramCredentials extends ErrorFields {
  user: string;
  credentials: { mechanism: number; iterations: number }[];
}
export interface DescribeUserScramCredentialsResponse extends ErrorFields {
  results: DescribedUserScramCredentials[];
}

export const alterUserScramCredentialsRequest = object({
  deletions: list(object({ name: user, mechanism: int8 }), scramUsersPerRequestMax),
  upsertions: list(
    object({
      name: user,
      mechanism: int8,
      iterations: int32,
      salt: bytes,
      saltedPassword: bytes,
    }),
    scramUsersPerRequestMax,
  ),
});
export type AlterUserScramCredentialsRequest = Infer<typeof alterUserScramCredentialsRequest>;
export interface AlterUserScramCredentialsResponse extends ErrorFields {
  results: ({ user: string } & ErrorFields)[];
}
