/**
 * SaslAuthenticate (Kafka's API 36): one message of the mechanism chosen by
 * SaslHandshake, answered with the server's message. When authentication
 * completes the connection acts for `User:<name>`; when it fails the answer
 * is SASL_AUTHENTICATION_FAILED with Kafka's message (the same for an
 * unknown user and a wrong password) and the connection closes. Sessions do
 * not expire: session_lifetime_ms is 0 (KIP-368 re-authentication off, as
 * Kafka's default connections.max.reauth.ms=0).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { SaslAuthenticateResponse } from '../protocol/native/security-messages.js';
import { toWireError, WireError } from '../shared/errors.js';
import type { Handler } from './context.js';

const none = Buffer.alloc(0);

export const saslAuthenticateHandler: Handler<typeof ApiKey.SaslAuthenticate> = {
  apiKey: ApiKey.SaslAuthenticate,
  async handle(request, ctx, client): Promise<SaslAuthenticateResponse> {
    const session = client.sasl;
    if (!session) {
      return {
        errorCode: WireError.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate request on a listener without SASL',
        authBytes: none,
        sessionLifetimeMs: 0,
      };
    }
    try {
      const authBytes = await session.authenticate(request.authBytes);
      if (session.authenticated) {
        ctx.logger.debug({ user: session.user, remote: client.clientHost }, 'SASL authentication succeeded');
      }
      return { errorCode: WireError.NONE, authBytes, sessionLifetimeMs: 0 };
    } catch (err) {
      if (session.failure !== undefined) {
        // Kafka logs each failed authentication at INFO; the connection's close warning is rate-limited
        ctx.logger.info({ remote: client.clientHost, reason: session.failure }, 'failed authentication');
      }
      return { ...toWireError(err), authBytes: none, sessionLifetimeMs: 0 };
    }
  },
};
