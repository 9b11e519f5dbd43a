import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

/** The run's logger (pino): JSON lines on stderr, so stdout stays machine-readable. */
export type Logger = PinoLogger;

/**
 * A logger at `level` (default: $TRIPLETFLOW_LOG_LEVEL or `info`) writing synchronously to stderr: readable lines on
 * a terminal (pino-pretty), JSON lines otherwise (log files of nightly jobs).
 */
export function createLogger(level: string = process.env.TRIPLETFLOW_LOG_LEVEL ?? 'info'): Logger {
  if (process.stderr.isTTY && !process.env.TRIPLETFLOW_LOG_JSON) {
    return pino({ level, base: undefined }, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' }));
  }
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
