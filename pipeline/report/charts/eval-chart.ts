import type { RunHistory } from '../run-history.js';
import { colour, line, markLines, stepSection, type ReportSection } from './chart-kit.js';

/** The three retrieval metrics, their keys and display names. */
export const RETRIEVAL_METRICS: ReadonlyArray<readonly ['precision_at_1' | 'r_precision' | 'mean_average_precision_at_r', string]> = [
  ['precision_at_1', 'P@1'],
  ['r_precision', 'R-precision'],
  ['mean_average_precision_at_r', 'MAP@R'],
];

// staggered so that close baselines (R-precision and MAP@R often are) keep readable labels
const LABEL_POSITIONS = ['insideEndTop', 'insideMiddleTop', 'insideEndBottom'] as const;

/** P@1, R-precision and MAP@R over the run's evaluations, each with its untrained baseline as a dashed line. */
export function evalChart(h: RunHistory): ReportSection {
  const id = 'eval';
  const title = 'Retrieval metrics on the eval set';
  const untrained = h.eval?.untrained ?? h.run?.untrained ?? null;
  const history = h.eval?.history ?? [];
  const final = h.eval?.final ?? h.run?.final ?? null;
  // an eval.json without history (older runs) still has the final scores, plotted at the last step
  const evals = history.length > 0 ? history : final && h.run?.steps !== undefined ? [{ ...final, step: h.run.steps }] : [];
  if (evals.length === 0) {
    return { kind: 'note', id, title, note: h.notes.find((n) => n.startsWith('eval.json')) ?? 'eval.json holds no evaluation.' };
  }
  // the untrained model is evaluated before the first step: the curve starts there
  const points = untrained && (evals[0]?.step ?? 0) > 0 ? [{ ...untrained, step: 0 }, ...evals] : evals;
  const series = RETRIEVAL_METRICS.map(([key, name], i) => {
    const base = untrained?.[key];
    return line(name, points.map((p) => [p.step, p[key]] as [number, number]), {
      itemStyle: { color: colour(i) },
      lineStyle: { color: colour(i) },
      showSymbol: true,
      ...markLines(typeof base === 'number' ? [{
        yAxis: base,
        name: `untrained ${name}`,
        lineStyle: { color: colour(i), type: 'dashed' as const, width: 1 },
        label: { formatter: `untrained ${name} ${base.toFixed(3)}`, position: LABEL_POSITIONS[i % LABEL_POSITIONS.length] as 'insideStartTop', fontSize: 10, color: colour(i) },
      }] : []),
    });
  });
  const caption = untrained ? 'At step 0 and dashed: the same metrics of the untrained model (the baseline).' : 'The run has no untrained baseline.';
  return stepSection(id, title, caption, 'score', series, { yMin: 0, yMax: 1 });
}
