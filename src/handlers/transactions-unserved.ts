/**
 * Transaction APIs whose handlers were being built (issue 21) answered
 * UNSUPPORTED_VERSION from here until each had its own handler file. Every
 * one is served now (txn-storage: WriteTxnMarkers; txn-groups: TxnOffsetCommit;
 * txn-coord: the coordinator's five), so none is left; the lead may delete
 * this file and its spread in handlers/index.ts.
 */
export const unservedTransactionHandlers = {};
