import { type DestinationStream, type Logger, pino } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';
import { ErrorCode, SluiceError } from './errors.js';

export type { Logger };

/** The values of `log.format`: auto is pretty when stdout is a terminal, JSON lines otherwise. */
export const logFormats = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

export interface LoggerOptions {
  /** pino level; default SLUICE_LOG_LEVEL or info. */
  level?: string | undefined;
  /** default auto. */
  format?: LogFormat | undefined;
  /** Where the lines go (default stdout); tests pass their own. */
  destination?: DestinationStream;
  /** Whether `destination` is a terminal (default: whether stdout is). */
  isTty?: boolean;
}

/** What `auto` means: pretty for a person at a terminal, JSON lines for a pipe, a file or a log collector. */
export function resolveLogFormat(format: LogFormat, isTty: boolean): 'json' | 'pretty' {
  if (format === 'auto') return isTty ? 'pretty' : 'json';
  return format;
}

/**
 * One structured line per event. Level from `level`, else SLUICE_LOG_LEVEL (default info);
 * format from `format` (default auto): JSON lines, or pino-pretty's human lines with colour on a terminal.
 */
export function createLogger(name: string, levelOrOptions?: string | LoggerOptions): Logger {
  const options: LoggerOptions =
    typeof levelOrOptions === 'string' ? { level: levelOrOptions } : (levelOrOptions ?? {});
  const chosen = options.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info';
  if (!(chosen in pino.levels.values) && chosen !== 'silent') {
    throw new SluiceError(
      ErrorCode.InvalidConfig,
      `unknown log level "${chosen}" (trace, debug, info, warn, error, fatal, silent)`,
    );
  }
  const isTty = options.isTty ?? process.stdout.isTTY === true;
  const format = resolveLogFormat(options.format ?? 'auto', isTty);
  const settings = { name, level: chosen, base: { pid: process.pid } };
  if (format === 'json') return options.destination ? pino(settings, options.destination) : pino(settings);
  return pino(settings, prettyStream(options.destination ?? pino.destination({ dest: 1, sync: true }), isTty));
}

/**
 * pino-pretty's formatter used in the logging call itself, not as a worker-thread transport: each
 * line is written (synchronously, on stdout) before the call returns, so a kill -9 loses none.
 */
function prettyStream(out: DestinationStream, isTty: boolean): DestinationStream {
  const pretty = prettyFactory({
    colorize: isTty && isColorSupported,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    // the fields go on the message's own line (see formatFields); pino-pretty's one-field-per-line layout
    // makes a start-up screen hard to read
    hideObject: true,
    messageFormat: (log, messageKey, _levelLabel, extras) => formatMessage(log, messageKey, extras.colors.gray),
  });
  return { write: (line: string) => out.write(pretty(line)) };
}

/** Fields pino adds or the pretty prefix already shows. */
const notFields = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'brokerId']);

/**
 * `[broker 1] message key=value key=value`, then the stack of an error field on its own lines.
 * Exported for the unit test.
 */
export function formatMessage(
  log: Record<string, unknown>,
  messageKey = 'msg',
  dim: (s: string) => string = (s) => s,
): string {
  const message = log[messageKey];
  let line = typeof log.brokerId === 'number' ? `[broker ${log.brokerId}] ` : '';
  line += typeof message === 'string' ? message : '';
  let stacks = '';
  for (const [key, value] of Object.entries(log)) {
    if (notFields.has(key) || key === messageKey || value === undefined) continue;
    if (isErrorLike(value)) {
      line += ` ${dim(`${key}=`)}${quoted(value.message ?? '')}`;
      if (typeof value.stack === 'string') stacks += `\n    ${value.stack.split('\n').join('\n    ')}`;
      continue;
    }
    line += ` ${dim(`${key}=`)}${formatValue(value)}`;
  }
  return line + stacks;
}

function isErrorLike(value: unknown): value is { message?: string; stack?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { stack?: unknown }).stack === 'string';
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A bare word stays bare; anything a reader could split wrongly is quoted. */
function quoted(s: string): string {
  return s !== '' && /^[^\s="]+$/.test(s) ? s : JSON.stringify(s);
}

/** A logger that drops everything; for library use and tests that do not care. */
export const silentLogger: Logger = pino({ level: 'silent' });
