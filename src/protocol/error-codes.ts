/**
 * Wire error codes for the protocol layers: Kafka's numbers and names, each
 * with Kafka's retriable flag. Defined by the one error table
 * (src/shared/error-table.ts); re-exported here for the codecs.
 */
export { isRetriable, toWireError, WireError, wireErrorName } from '../shared/errors.js';
