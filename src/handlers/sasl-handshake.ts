/**
 * SaslHandshake (Kafka's API 17): the client names the SASL mechanism it will
 * authenticate with. On a SASL listener an enabled mechanism is chosen for the
 * connection; one that is not enabled is answered UNSUPPORTED_SASL_MECHANISM
 * with the enabled list, and the connection closes (Kafka's behaviour). On a
 * listener without SASL the answer is ILLEGAL_SASL_STATE, as Kafka's.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { SaslHandshakeResponse } from '../protocol/native/security-messages.js';
import { toWireError, WireError } from '../shared/errors.js';
import type { Handler } from './context.js';

export const saslHandshakeHandler: Handler<typeof ApiKey.SaslHandshake> = {
  apiKey: ApiKey.SaslHandshake,
  async handle(request, _ctx, client): Promise<SaslHandshakeResponse> {
    const session = client.sasl;
    if (!session) {
      return {
        errorCode: WireError.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslHandshake request on a listener without SASL',
        mechanisms: [],
      };
    }
    try {
      session.handshake(request.mechanism, request.rawTokens === true);
      return { errorCode: WireError.NONE, mechanisms: [...session.enabled] };
    } catch (err) {
      return { ...toWireError(err), mechanisms: [...session.enabled] };
    }
  },
};
