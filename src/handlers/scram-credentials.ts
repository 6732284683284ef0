/**
 * DescribeUserScramCredentials (Kafka's API 50) and AlterUserScramCredentials
 * (51): the users with SCRAM credentials and their iterations (never a
 * secret), and upserting or deleting credentials, answered per user as
 * Kafka does: RESOURCE_NOT_FOUND for a user (or credential) that does not
 * exist, DUPLICATE_RESOURCE for a user named twice (describe) or a user and
 * mechanism altered twice, UNSUPPORTED_SASL_MECHANISM for an unknown
 * mechanism, UNACCEPTABLE_CREDENTIAL for an empty name or iterations out of
 * 4096..16384. An upsertion carries the salt and salted password (the client
 * derives them); the broker keeps StoredKey and ServerKey only.
 * (Authorization, Describe/Alter on the Cluster, is the authorizer's.)
 */
import { dropPendingUser } from '../coordination/legacy-console-users.js';
import type { ScramChanges } from '../coordination/scram-store.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  AlterUserScramCredentialsResponse,
  DescribeUserScramCredentialsResponse,
} from '../protocol/native/security-messages.js';
import {
  credentialFromSaltedPassword,
  type ScramMechanism,
  scramMechanismOfType,
  scramMechanismType,
} from '../security/scram.js';
import { ErrorCode, SluiceError, toWireError, WireError } from '../shared/errors.js';
import type { Handler, HandlerContext } from './context.js';

const isResourceNotFound = (err: unknown): boolean =>
  err instanceof SluiceError && err.code === ErrorCode.ResourceNotFound;

function storeOf(ctx: HandlerContext) {
  const store = ctx.coordinator.scramCredentials;
  if (!store) throw new SluiceError(ErrorCode.BrokerError, 'this broker keeps no SCRAM credentials');
  return store;
}

export const describeUserScramCredentialsHandler: Handler<typeof ApiKey.DescribeUserScramCredentials> = {
  apiKey: ApiKey.DescribeUserScramCredentials,
  async handle(request, ctx): Promise<DescribeUserScramCredentialsResponse> {
    const described = storeOf(ctx).describe();
    const toResult = (d: (typeof described)[number]) => ({
      user: d.user,
      errorCode: WireError.NONE,
      credentials: d.credentials.map((c) => ({ mechanism: scramMechanismType[c.mechanism], iterations: c.iterations })),
    });
    // null or empty: every user (Kafka's)
    if (request.users === null || request.users.length === 0) {
      return { errorCode: WireError.NONE, results: described.map(toResult) };
    }
    const byUser = new Map(described.map((d) => [d.user, d]));
    const counts = new Map<string, number>();
    for (const user of request.users) counts.set(user, (counts.get(user) ?? 0) + 1);
    const results: DescribeUserScramCredentialsResponse['results'] = [];
    for (const user of counts.keys()) {
      const found = byUser.get(user);
      if ((counts.get(user) ?? 0) > 1) {
        results.push({
          user,
          errorCode: WireError.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentials: [],
        });
      } else if (!found) {
        results.push({
          user,
          errorCode: WireError.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentials: [],
        });
      } else results.push(toResult(found));
    }
    return { errorCode: WireError.NONE, results };
  },
};

export const alterUserScramCredentialsHandler: Handler<typeof ApiKey.AlterUserScramCredentials> = {
  apiKey: ApiKey.AlterUserScramCredentials,
  async handle(request, ctx): Promise<AlterUserScramCredentialsResponse> {
    const store = storeOf(ctx);
    // per user, in order of first appearance: its changes, or why the user's alteration is refused
    const users = new Map<string, { changes: ScramChanges; error?: SluiceError }>();
    const entry = (name: string) => {
      const known = users.get(name);
      if (known) return known;
      const fresh: { changes: ScramChanges; error?: SluiceError } = { changes: {} };
      users.set(name, fresh);
      return fresh;
    };
    const refuse = (name: string, code: ErrorCode, message: string) => {
      const e = entry(name);
      e.error ??= new SluiceError(code, message);
    };
    const mechanismOf = (name: string, type: number): ScramMechanism | undefined => {
      const mechanism = scramMechanismOfType(type);
      if (!mechanism) refuse(name, ErrorCode.UnsupportedSaslMechanism, `Unknown SCRAM mechanism type ${type}`);
      else if (name === '') refuse(name, ErrorCode.UnacceptableCredential, 'Username must not be empty');
      else if (Object.hasOwn(entry(name).changes, mechanism)) {
        refuse(name, ErrorCode.DuplicateResource, 'A user credential cannot be altered twice in the same request');
      }
      return mechanism;
    };
    for (const d of request.deletions) {
      const mechanism = mechanismOf(d.name, d.mechanism);
      if (mechanism) entry(d.name).changes[mechanism] = null;
    }
    for (const u of request.upsertions) {
      const mechanism = mechanismOf(u.name, u.mechanism);
      if (!mechanism) continue;
      try {
        entry(u.name).changes[mechanism] = credentialFromSaltedPassword(
          mechanism,
          u.salt,
          u.saltedPassword,
          u.iterations,
        );
      } catch (err) {
        refuse(u.name, ErrorCode.UnacceptableCredential, (err as Error).message);
      }
    }
    const results: AlterUserScramCredentialsResponse['results'] = [];
    for (const [user, { changes, error }] of users) {
      const legacy = ctx.coordinator.legacyConsoleUsers;
      try {
        if (error) throw error;
        await store.alter(user, changes);
        // the store's credentials count from now on, not a line pending from the console's former users file
        await dropPendingUser(legacy, user);
        results.push({ user, errorCode: WireError.NONE });
      } catch (err) {
        // a user still pending from that file has no credential to delete: deleting one ends the user there
        const deletesOnly = !error && Object.values(changes).every((c) => c === null);
        if (deletesOnly && isResourceNotFound(err) && (await dropPendingUser(legacy, user))) {
          results.push({ user, errorCode: WireError.NONE });
        } else results.push({ user, ...toWireError(err) });
      }
    }
    return { errorCode: WireError.NONE, results };
  },
};
