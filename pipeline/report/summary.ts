import { RETRIEVAL_METRICS } from './charts/eval-chart.js';
import { phaseLabel } from './charts/chart-kit.js';
import type { RunHistory } from './run-history.js';

/** One retrieval metric, untrained and final (null where unknown). */
export interface ScoreRow {
  readonly metric: string;
  readonly untrained: number | null;
  readonly final: number | null;
}

/** The summary table of a report: run facts, final vs untrained scores, and the record accounting. */
export interface ReportSummary {
  readonly facts: ReadonlyArray<readonly [label: string, value: string]>;
  /** Empty when the run has no evaluation. */
  readonly scores: readonly ScoreRow[];
  readonly records: ReadonlyArray<readonly [label: string, value: string]>;
}

const int = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const stepsDone = (steps: number, total: number | undefined): string => (total !== undefined && total !== steps ? `${int(steps)} of ${int(total)}` : int(steps));
const last = (xs: Float64Array): number => (xs.length > 0 ? (xs[xs.length - 1] as number) : Number.NaN);

/** The summary of a run: what run.json says, else what the logged steps show so far. */
export function buildSummary(h: RunHistory): ReportSummary {
  const run = h.run;
  const m = h.metrics;
  const lastStep = last(m.step);
  const backend = typeof run?.backend === 'string' ? run.backend : run?.backend?.backend;
  const facts: Array<[string, string]> = [
    ['status', run?.status ?? (m.length > 0 ? 'in progress, or stopped (no run.json yet)' : 'no step logged yet')],
    ['steps', run?.steps !== undefined ? stepsDone(run.steps, run.stepsTotal) : m.length > 0 ? `${int(lastStep + 1)} (logged so far)` : '0'],
    ['seconds', run?.seconds !== undefined ? String(run.seconds) : '—'],
    ['steps/s', run?.stepsPerSec !== undefined ? String(run.stepsPerSec) : '—'],
    ['backend', backend ?? '—'],
    ['curriculum', run?.curriculum ?? '—'],
    ['phases', h.phases.length > 0 ? h.phases.map((p) => `${phaseLabel(p)} from step ${int(p.fromStep)}`).join('; ') : '—'],
    ['collapse detector', run?.collapse ? (run.collapse.fired ? `fired at step ${run.collapse.atStep}` : 'quiet') : '—'],
    ['epoch (last logged)', int(last(m.epoch))],
    ['peak RSS', run?.peakRssMb !== undefined ? `${run.peakRssMb} MB` : '—'],
    ['per-stage metrics', h.stages.size > 0 ? [...h.stages.keys()].join(', ') : 'none'],
  ];
  const untrained = h.eval?.untrained ?? run?.untrained ?? null;
  const final = h.eval?.final ?? run?.final ?? null;
  const scores: ScoreRow[] = untrained || final
    ? RETRIEVAL_METRICS.map(([key, metric]) => ({ metric, untrained: untrained?.[key] ?? null, final: final?.[key] ?? null }))
    : [];
  return { facts, scores, records: recordRows(h) };
}

function recordRows(h: RunHistory): Array<[string, string]> {
  const r = h.run?.records;
  const quarantined = h.quarantineByReason ? Object.values(h.quarantineByReason).reduce((s, v) => s + v, 0) : Number.NaN;
  if (!r) {
    return [
      ['records read (last logged step)', int(last(h.metrics.recordsSeen))],
      ['quarantined so far', int(quarantined)],
    ];
  }
  const rows: Array<[string, string]> = Object.entries(r).map(([k, v]) => [k, int(v)]);
  const { read, reused, trained, carriedDuplicates, waitingAtStop } = r;
  if ([read, trained, r.quarantined, carriedDuplicates, waitingAtStop].every((v) => typeof v === 'number')) {
    const lhs = (read as number) + (reused ?? 0);
    const rhs = (trained as number) + (r.quarantined as number) + (carriedDuplicates as number) + (waitingAtStop as number);
    rows.push([
      'read + reused = trained + quarantined + carried duplicates + waiting at stop',
      `${int(lhs)} ${lhs === rhs ? '=' : '≠'} ${int(rhs)}${lhs === rhs ? ' (every record accounted for)' : ' (records unaccounted for!)'}`,
    ]);
  }
  return rows;
}
