import type { LineSeriesOption } from 'echarts/charts';
import { pointsPerSeries, seriesPoints } from '../downsample.js';
import type { RunHistory } from '../run-history.js';
import { colour, line, stepSection, type ReportSection } from './chart-kit.js';

/** The note standing in for the per-stage charts of a run whose metrics carry no `stages`. */
export const NO_STAGE_METRICS =
  'This run has no per-stage metrics: its metrics.jsonl lines carry no "stages" field, so throughput and wait times per stage cannot be shown.';

/**
 * Records/s of each pipeline stage over the steps, the cumulative busy time of each (when the lines have `busyMs`),
 * and the cumulative time each waited on its consumer (backpressure, solid) and on its producer (dashed), from the
 * lines' `stages` field; one note when there is none.
 */
export function stageCharts(h: RunHistory): ReportSection[] {
  if (h.stages.size === 0) return [{ kind: 'note', id: 'throughput', title: 'Throughput per stage', note: NO_STAGE_METRICS }];
  const { step } = h.metrics;
  const names = [...h.stages.keys()];
  const throughput: LineSeriesOption[] = names.map((name, i) => {
    const s = h.stages.get(name);
    // log scale (a stage putting out batches runs ~1000× slower than one putting out records); an interval with
    // no output has no place on it and is left out
    const positive = s ? s.recordsPerSec.map((v) => (v > 0 ? v : Number.NaN)) : new Float64Array(0);
    return line(name, s ? seriesPoints(step, positive, pointsPerSeries(names.length)) : [], { itemStyle: { color: colour(i) }, lineStyle: { color: colour(i) } });
  });
  const waits: LineSeriesOption[] = names.flatMap((name, i) => {
    const s = h.stages.get(name);
    if (!s) return [];
    const budget = pointsPerSeries(2 * names.length);
    // downsampled first, then turned into seconds: only the kept points are converted
    const seconds = (ms: Float64Array) => seriesPoints(step, ms, budget).map(([x, y]) => [x, y / 1000] as [number, number]);
    return [
      line(`${name} waiting on consumer`, seconds(s.waitConsumerMs), { itemStyle: { color: colour(i) }, lineStyle: { color: colour(i) } }),
      line(`${name} waiting on producer`, seconds(s.waitProducerMs), { itemStyle: { color: colour(i) }, lineStyle: { color: colour(i), type: 'dashed' } }),
    ];
  });
  const throughputChart = stepSection(
    'throughput', 'Throughput per stage',
    'Records (train-step: batches) per second each stage put out over each logging interval, log scale; intervals with no output are left out.',
    'records/s', throughput, { log: true },
  );
  const busy = names.flatMap((name, i) => {
    const s = h.stages.get(name);
    if (!s || !s.busyMs.some(Number.isFinite)) return [];
    const points = seriesPoints(step, s.busyMs, pointsPerSeries(names.length)).map(([x, y]) => [x, y / 1000] as [number, number]);
    return [line(name, points, { itemStyle: { color: colour(i) }, lineStyle: { color: colour(i) } })];
  });
  return [
    throughputChart,
    ...(busy.length === 0 ? [] : [stepSection(
      'stage-busy', 'Busy time per stage (cumulative)',
      "Time each stage spent on its own work; the steepest line is the stage that limits the run.",
      'seconds', busy,
    )]),
    stepSection(
      'stage-waits', 'Time each stage waited (cumulative)',
      'Solid: waiting on the consumer (backpressure: the stage downstream is slower). Dashed: waiting on the producer (starved).',
      'seconds', waits,
    ),
  ];
}
