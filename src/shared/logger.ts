import { type Logger, pino } from 'pino';
import { ErrorCode, SluiceError } from './errors.js';

export type { Logger };

/** One structured line per event. Level from SLUICE_LOG_LEVEL (default info). */
export function createLogger(name: string, level?: string): Logger {
  const chosen = level ?? process.env.SLUICE_LOG_LEVEL ?? 'info';
  if (!(chosen in pino.levels.values) && chosen !== 'silent') {
    throw new SluiceError(
      ErrorCode.InvalidConfig,
      `unknown log level "${chosen}" (trace, debug, info, warn, error, fatal, silent)`,
    );
  }
  return pino({
    name,
    level: chosen,
    base: { pid: process.pid },
  });
}

/** A logger that drops everything; for library use and tests that do not care. */
export const silentLogger: Logger = pino({ level: 'silent' });
