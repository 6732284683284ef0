import { type Logger, pino } from 'pino';

export type { Logger };

/** One structured line per event. Level from SLUICE_LOG_LEVEL (default info). */
export function createLogger(name: string, level?: string): Logger {
  return pino({
    name,
    level: level ?? process.env.SLUICE_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
  });
}

/** A logger that drops everything; for library use and tests that do not care. */
export const silentLogger: Logger = pino({ level: 'silent' });
