import cliProgress from 'cli-progress';

/** What a progress display reads on each tick. */
export interface ProgressSnapshot {
  readonly records: number;
  readonly bytes: number;
  /** Extra text, e.g. per-stage rates. */
  readonly detail?: string;
}

/**
 * A bar on stderr redrawn every `everyMs` from `read()` (value and payload fields of `format`), shown only on a
 * terminal. Returns a stop function; without a terminal it does nothing.
 */
function startBar(format: string, total: number, read: (seconds: number) => { value: number; payload: Record<string, unknown> }, everyMs: number): () => void {
  if (!process.stderr.isTTY || process.env.CI) return () => {};
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
  const t0 = Date.now();
  const first = read(1e-3);
  bar.start(Math.max(1, total), 0, first.payload);
  const tick = () => {
    const r = read(Math.max(1e-3, (Date.now() - t0) / 1000));
    bar.update(Math.min(r.value, total), r.payload);
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    tick();
    bar.stop();
  };
}

/** A progress bar over input bytes: records, MB, rate and ETA from bytes. */
export function startProgress(totalBytes: number, read: () => ProgressSnapshot, everyMs = 250): () => void {
  const mb = (b: number) => (b / 1e6).toFixed(1);
  return startBar(
    '{bar} {percentage}% | {records} records | {mb}/{totalMb} MB | {rate} rec/s | ETA {eta_formatted} {detail}',
    totalBytes,
    (sec) => {
      const s = read();
      return { value: s.bytes, payload: { records: s.records, mb: mb(s.bytes), totalMb: mb(totalBytes), rate: Math.round(s.records / sec), detail: s.detail ?? '' } };
    },
    everyMs,
  );
}

/** A progress bar over training steps: step, steps/s, ETA, and `detail`. */
export function startStepProgress(totalSteps: number, read: () => { step: number; detail?: string }, everyMs = 250): () => void {
  return startBar(
    '{bar} {value}/{total} steps | {rate} steps/s | ETA {eta_formatted} {detail}',
    totalSteps,
    (sec) => {
      const s = read();
      return { value: s.step, payload: { rate: (s.step / sec).toFixed(1), detail: s.detail ?? '' } };
    },
    everyMs,
  );
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  // maxRSS is in kilobytes
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
