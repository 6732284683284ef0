/**
 * SCRAM users (issue 17) through Kafka's AlterUserScramCredentials and
 * DescribeUserScramCredentials: the client derives the salted password
 * (PBKDF2 with a new random salt), so the password never reaches the broker,
 * as with Kafka's admin client. Any broker answers (each writes the shared store).
 */
import { randomBytes } from 'node:crypto';
import { ApiKey } from '../protocol/native/api-keys.js';
import {
  kafkaMechanismName,
  type ScramMechanism,
  saltedPassword,
  scramMechanismOfType,
  scramMechanismType,
} from '../security/scram.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { scramIterationsDefault } from '../shared/limits.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';

export interface ScramUserDescription {
  user: string;
  credentials: { mechanism: ScramMechanism; iterations: number }[];
}

/** 'scram-sha-256' or 'SCRAM-SHA-256' → 'SCRAM-SHA-256'; PLAIN or anything else is refused. */
export function scramMechanismOption(mechanism: string): ScramMechanism {
  const name = kafkaMechanismName(mechanism);
  if (name === undefined || name === 'PLAIN') {
    throw new SluiceError(
      ErrorCode.UnsupportedSaslMechanism,
      `'${mechanism}' is not a SCRAM mechanism (SCRAM-SHA-256, SCRAM-SHA-512); PLAIN users are checked against their SCRAM credential`,
    );
  }
  return name;
}

function checkUser(user: string): void {
  if (typeof user !== 'string' || user.length === 0) throw invalidArgument('a user name must be a non-empty string');
}

/** Sets (creates or replaces) `user`'s credential for `mechanism`. */
export async function upsertScramCredential(
  cluster: Cluster,
  user: string,
  mechanism: ScramMechanism,
  password: string,
  iterations = scramIterationsDefault,
): Promise<void> {
  checkUser(user);
  if (typeof password !== 'string' || password.length === 0) throw invalidArgument('the password is empty');
  const salt = randomBytes(mechanism === 'SCRAM-SHA-512' ? 64 : 32);
  const salted = await saltedPassword(mechanism, password, salt, iterations);
  await alter(cluster, user, {
    deletions: [],
    upsertions: [{ name: user, mechanism: scramMechanismType[mechanism], iterations, salt, saltedPassword: salted }],
  });
}

/** Deletes `user`'s credential for `mechanism` (ResourceNotFound when it has none). */
export async function deleteScramCredential(cluster: Cluster, user: string, mechanism: ScramMechanism): Promise<void> {
  checkUser(user);
  await alter(cluster, user, {
    deletions: [{ name: user, mechanism: scramMechanismType[mechanism] }],
    upsertions: [],
  });
}

async function alter(
  cluster: Cluster,
  user: string,
  body: {
    deletions: { name: string; mechanism: number }[];
    upsertions: { name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }[];
  },
): Promise<void> {
  const res = await cluster.retry(async () => {
    const conn = await cluster.anyConnection();
    return conn.request(ApiKey.AlterUserScramCredentials, body);
  });
  checkTopLevel(res, `alter the SCRAM credentials of '${user}'`);
  const r = res.results?.find((x) => x.user === user);
  if (!r) throw wireError(-1, `alter the SCRAM credentials of '${user}'`, 'no answer for the user');
  if (r.errorCode !== 0) throw wireError(r.errorCode, `alter the SCRAM credentials of '${user}'`, r.errorMessage);
}

/** Users with SCRAM credentials (all of them, or the ones named: an unknown one is ResourceNotFound). */
export async function describeScramUsers(cluster: Cluster, users?: string[]): Promise<ScramUserDescription[]> {
  const res = await cluster.retry(async () => {
    const conn = await cluster.anyConnection();
    return conn.request(ApiKey.DescribeUserScramCredentials, { users: users ?? null });
  });
  checkTopLevel(res, 'describe SCRAM users');
  return (res.results ?? []).map((r) => {
    if (r.errorCode !== 0)
      throw wireError(r.errorCode, `describe the SCRAM credentials of '${r.user}'`, r.errorMessage);
    return {
      user: r.user,
      credentials: r.credentials.flatMap((c) => {
        const mechanism = scramMechanismOfType(c.mechanism);
        return mechanism ? [{ mechanism, iterations: c.iterations }] : [];
      }),
    };
  });
}
