/**
 * The client side of SASL on a broker connection (issue 17): right after
 * connecting, before any other request, SaslHandshake names the mechanism and
 * SaslAuthenticate carries its messages (PLAIN: one; SCRAM: client-first,
 * client-final, then the server's signature is verified, so a broker that does
 * not hold the credential is not trusted either). Failures are typed and not
 * retriable: SaslAuthenticationFailed (wrong password or unknown user: one
 * message, as the broker gives it), UnsupportedSaslMechanism.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import { isScramMechanism, kafkaMechanismName, plainMessage, ScramClient } from '../security/scram.js';
import { ErrorCode, errorCodeOfWire, SluiceError } from '../shared/errors.js';
import type { ClientSaslOptions } from './types.js';

/** Sends one request on the connection being authenticated. */
export type SaslExchange = <K extends ApiKey>(apiKey: K, body: RequestOf<K>) => Promise<ResponseOf<K>>;

function refused(answer: { errorCode?: number; errorMessage?: string }, address: string, what: string): SluiceError {
  const code = answer.errorCode ?? -1;
  const message = answer.errorMessage ? answer.errorMessage : `${what} refused with error ${code}`;
  return new SluiceError(errorCodeOfWire(code), `SASL authentication with ${address} failed: ${message}`);
}

/** Checks the options (a clear InvalidArgument before any connection). */
export function checkSaslOptions(sasl: ClientSaslOptions): void {
  if (!kafkaMechanismName(String(sasl.mechanism))) {
    throw new SluiceError(
      ErrorCode.UnsupportedSaslMechanism,
      `SASL mechanism '${String(sasl.mechanism)}' is not supported (plain, scram-sha-256, scram-sha-512)`,
    );
  }
  if (typeof sasl.username !== 'string' || sasl.username === '' || typeof sasl.password !== 'string') {
    throw new SluiceError(ErrorCode.InvalidArgument, 'sasl needs a username and a password');
  }
}

export async function authenticate(exchange: SaslExchange, sasl: ClientSaslOptions, address: string): Promise<void> {
  checkSaslOptions(sasl);
  const mechanism = kafkaMechanismName(sasl.mechanism) as string;
  const handshake = await exchange(ApiKey.SaslHandshake, { mechanism });
  if (handshake.errorCode !== 0) {
    const enabled = handshake.mechanisms?.length ? ` (the broker accepts ${handshake.mechanisms.join(', ')})` : '';
    throw refused(
      { errorCode: handshake.errorCode, errorMessage: `${handshake.errorMessage ?? mechanism}${enabled}` },
      address,
      'SaslHandshake',
    );
  }
  const step = async (authBytes: Buffer): Promise<Buffer> => {
    const answer = await exchange(ApiKey.SaslAuthenticate, { authBytes });
    if (answer.errorCode !== 0) throw refused(answer, address, 'SaslAuthenticate');
    return Buffer.from(answer.authBytes ?? Buffer.alloc(0));
  };
  if (mechanism === 'PLAIN') {
    await step(plainMessage(sasl.username, sasl.password));
    return;
  }
  if (!isScramMechanism(mechanism)) throw new SluiceError(ErrorCode.UnsupportedSaslMechanism, mechanism);
  const client = new ScramClient(mechanism, sasl.username, sasl.password);
  const serverFirst = await step(client.first());
  const serverFinal = await step(await client.final(serverFirst));
  try {
    client.verify(serverFinal);
  } catch (err) {
    throw new SluiceError(
      ErrorCode.SaslAuthenticationFailed,
      `SASL authentication with ${address} failed: ${(err as Error).message}`,
    );
  }
}
