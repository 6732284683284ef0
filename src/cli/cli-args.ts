/**
 * Option values the CLI checks itself. A bad value is an error (exit 1, one
 * line naming the option); commander's own usage errors (unknown option,
 * missing argument) stay exit 2.
 */
import { CommanderError } from 'commander';
import { ErrorCode, SluiceError } from '../shared/errors.js';

export function badValue(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidArgument, message);
}

/**
 * Prints a usage error in the CLI's one shape (docs/errors.md): `sluice: usage error: <what> — <where the usage
 * is>`; commander's own messages ("error: unknown option '--x'") come through here too.
 */
export function writeUsageError(text: string): void {
  const what = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\.$/, '');
  process.stderr.write(`sluice: usage error: ${what} — see --help for the usage\n`);
}

/** A usage error (exit 2), printed like commander's own. */
export function usageError(message: string): CommanderError {
  writeUsageError(message);
  return new CommanderError(2, 'sluice.usage', message);
}

/** A whole decimal number in [min, max]; `what` names the option in the error. */
export function parseInteger(text: string, what: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^-?\d{1,16}$/.test(t)) throw badValue(`${what} must be a whole number, not '${text}'`);
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badValue(`${what} must be in ${min}..${max}, not ${text}`);
  return n;
}

/** A positive decimal number (e.g. 0.5) no larger than `max`; `what` names the option in the error. */
export function parsePositiveDecimal(text: string, what: string, max: number): number {
  const t = text.trim();
  if (!/^\d{1,16}(\.\d{1,16})?$/.test(t)) throw badValue(`${what} must be a positive number, not '${text}'`);
  const n = Number(t);
  if (!(n > 0) || n > max) throw badValue(`${what} must be above 0 and at most ${max}, not ${text}`);
  return n;
}

/** --acks: 0, 1, -1 or all. */
export function parseAcks(text: string): 0 | 1 | -1 {
  const t = text.trim().toLowerCase();
  if (t === '0') return 0;
  if (t === '1') return 1;
  if (t === '-1' || t === 'all') return -1;
  throw badValue(`--acks must be 0, 1, -1 or all, not '${text}'`);
}

/** `--config k=v` entries as a map; a key given twice keeps the last value. */
export function parseConfigPairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw badValue(`--config expects key=value, not '${pair}'`);
    const key = pair.slice(0, eq).trim();
    if (key.length === 0) throw badValue(`--config expects key=value, not '${pair}'`);
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Repeatable options collect into an array. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];
