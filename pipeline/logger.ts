import { pino, type Logger as PinoLogger } from 'pino';

/** The run's logger (pino): JSON lines on stderr, so stdout stays machine-readable. */
export type Logger = PinoLogger;

/** A logger at `level` (default: $TRIPLETFLOW_LOG_LEVEL or `info`) writing synchronously to stderr. */
export function createLogger(level: string = process.env.TRIPLETFLOW_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
