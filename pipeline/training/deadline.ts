import { ConfigError } from '../errors.js';

/** Seconds in "6h", "90m", "45s", "1h30m", "2d" or a plain number of seconds. */
export function parseDuration(text: string, path = 'maxDuration'): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)\s*(d|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as 'd' | 'h' | 'm' | 's'];
    end = re.lastIndex;
  }
  if (end === 0 || end !== t.length) throw new ConfigError(path, `"${text}" is not a duration; use e.g. 6h, 90m, 1h30m or a number of seconds`);
  return total;
}

/** The next time the local clock reads `hh:mm` after `now` (today if still ahead, else tomorrow). */
export function nextClockTime(text: string, now: Date, path = 'until'): Date {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const h = m ? Number(m[1]) : NaN;
  const min = m ? Number(m[2]) : NaN;
  if (!m || h > 23 || min > 59) throw new ConfigError(path, `"${text}" is not a clock time; use HH:MM in 24-hour local time, e.g. 06:00`);
  const at = new Date(now);
  at.setHours(h, min, 0, 0);
  if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  return at;
}

/** When a run must stop, in ms since the epoch (Infinity when neither limit is set). */
export function deadlineOf(opts: { maxDuration?: string | undefined; until?: string | undefined }, startedAt: Date): number {
  let at = Infinity;
  if (opts.maxDuration !== undefined) at = Math.min(at, startedAt.getTime() + parseDuration(opts.maxDuration) * 1000);
  if (opts.until !== undefined) at = Math.min(at, nextClockTime(opts.until, startedAt).getTime());
  return at;
}
