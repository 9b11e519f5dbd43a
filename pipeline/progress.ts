import cliProgress from 'cli-progress';

/** What a progress display reads on each tick. */
export interface ProgressSnapshot {
  readonly records: number;
  readonly bytes: number;
  /** Extra text, e.g. per-stage rates. */
  readonly detail?: string;
}

/**
 * A progress bar on stderr (records, MB, rate, ETA from bytes), shown only on a terminal.
 * Returns a stop function; without a terminal it does nothing.
 */
export function startProgress(totalBytes: number, read: () => ProgressSnapshot, everyMs = 250): () => void {
  if (!process.stderr.isTTY || process.env.CI) return () => {};
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {percentage}% | {records} records | {mb}/{totalMb} MB | {rate} rec/s | ETA {eta_formatted} {detail}',
      hideCursor: true,
      etaBuffer: 40,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  const mb = (b: number) => (b / 1e6).toFixed(1);
  bar.start(Math.max(1, totalBytes), 0, { records: 0, mb: '0.0', totalMb: mb(totalBytes), rate: 0, detail: '' });
  const tick = () => {
    const s = read();
    const sec = Math.max(1e-3, (Date.now() - t0) / 1000);
    bar.update(Math.min(s.bytes, totalBytes), {
      records: s.records, mb: mb(s.bytes), totalMb: mb(totalBytes), rate: Math.round(s.records / sec), detail: s.detail ?? '',
    });
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    tick();
    bar.stop();
  };
}

/**
 * A progress bar over training steps on stderr (step, rate, ETA, and `detail`), shown only on a terminal.
 * Returns a stop function.
 */
export function startStepProgress(totalSteps: number, read: () => { step: number; detail?: string }, everyMs = 250): () => void {
  if (!process.stderr.isTTY || process.env.CI) return () => {};
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{bar} {value}/{total} steps | {rate} steps/s | ETA {eta_formatted} {detail}', hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  const t0 = Date.now();
  bar.start(totalSteps, 0, { rate: 0, detail: '' });
  const tick = () => {
    const s = read();
    bar.update(s.step, { rate: (s.step / Math.max(1e-3, (Date.now() - t0) / 1000)).toFixed(1), detail: s.detail ?? '' });
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    tick();
    bar.stop();
  };
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  // maxRSS is in kilobytes
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
