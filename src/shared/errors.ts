/**
 * Every operating error Sluice raises is a SluiceError with a stable code.
 * Callers match on `code`, never on the message. Codes, wire numbers,
 * retriability and HTTP statuses all come from one table (error-table.ts);
 * this file derives each direction from it.
 */
import { assert } from './assert.js';
import {
  type Condition,
  conditionEntries,
  type ErrorCodes,
  errorCodes,
  type HttpStatus,
  type WireErrors,
  type WireName,
  type WireRow,
  wireConditionList,
  wireErrors,
} from './error-table.js';

export type { HttpStatus, WireName } from './error-table.js';

/** ErrorCode name → `SLUICE_ERR_*` string (see error-table.ts for what each means). */
export const ErrorCode: ErrorCodes = errorCodes;
export type ErrorCode = ErrorCodes[keyof ErrorCodes];

/** Wire error numbers by Kafka's names (Sluice's own start at 1000). */
export const WireError: WireErrors = wireErrors;
export type WireError = WireErrors[keyof WireErrors];

export class SluiceError extends Error {
  readonly code: ErrorCode;
  // private fields, so that an error's enumerable shape (logs, equality in tests) is what it was
  #retriable: boolean;
  readonly #wireName: WireName | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retriable?: boolean; wireName?: WireName },
  ) {
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'SluiceError';
    this.code = code;
    this.#retriable = options?.retriable ?? false;
    this.#wireName = options?.wireName;
  }

  /**
   * Whether a retry (after a metadata refresh) may succeed. The client sets
   * it for broker answers Kafka calls retriable (from the table) and for its
   * own transport failures (markRetriable); everything else is final.
   */
  get retriable(): boolean {
    return this.#retriable;
  }

  /** The broker's wire condition this error reports, when it came from (or stands for) one. */
  get wireName(): WireName | undefined {
    return this.#wireName;
  }

  /** Marks the error as one a retry may fix; returns it. */
  markRetriable(): this {
    this.#retriable = true;
    return this;
  }
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}

const byCode = new Map<string, Condition>(conditionEntries.map(([, row]) => [row.code, row]));
const byWire = new Map<number, WireRow>(wireConditionList.map((row) => [row.wire, row]));
const byWireName = new Map<string, WireRow>(wireConditionList.map((row) => [row.wireName, row]));

function conditionOf(code: ErrorCode): Condition {
  const row = byCode.get(code);
  // every ErrorCode comes from a row (test/unit/shared/error-table.test.ts)
  assert(row !== undefined, `no error table row for ${code}`);
  return row;
}

/** Kafka's name of wire error `code` (NONE for 0, ERROR_<n> for a number Sluice does not know). */
export function wireErrorName(code: number): string {
  if (code === WireError.NONE) return 'NONE';
  return byWire.get(code)?.wireName ?? `ERROR_${code}`;
}

/** The wire name of `code`, when it is a wire error Sluice knows. */
export function wireNameOf(code: number): WireName | undefined {
  return byWire.get(code)?.wireName;
}

/** Whether Kafka's rules let a client retry after wire error `code`. */
export function isRetriable(code: number): boolean {
  return byWire.get(code)?.retriable ?? false;
}

/** The ErrorCode a client reports for wire error `code` (BrokerError for a number it does not know). */
export function errorCodeOfWire(code: number): ErrorCode {
  return byWire.get(code)?.code ?? ErrorCode.BrokerError;
}

/** The wire error a broker answers with for `code`. */
export function wireErrorOf(code: ErrorCode): WireError {
  const row = conditionOf(code);
  return 'wire' in row ? row.wire : wireConditionOf(row.reportedAs).wire;
}

function wireConditionOf(name: WireName): WireRow {
  const row = byWireName.get(name);
  assert(row !== undefined, `no error table row for wire name ${name}`);
  return row;
}

/** The admin HTTP API's status for a SluiceError: its wire condition's when it reports one, else its code's. */
export function httpStatusOf(err: SluiceError): HttpStatus {
  const row = err.wireName === undefined ? conditionOf(err.code) : wireConditionOf(err.wireName);
  return row.httpStatus;
}

/** The one place domain errors become wire errors. */
export function toWireError(err: unknown): { errorCode: WireError; errorMessage: string } {
  if (isSluiceError(err)) return { errorCode: wireErrorOf(err.code), errorMessage: err.message };
  const message = typeof err === 'object' && err !== null && 'message' in err ? err.message : undefined;
  return {
    errorCode: WireError.UNKNOWN_SERVER_ERROR,
    errorMessage: typeof message === 'string' ? message : String(err),
  };
}
