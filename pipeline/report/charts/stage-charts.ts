import type { LineSeriesOption } from 'echarts/charts';
import { pointsPerSeries, seriesPoints } from '../downsample.js';
import type { RunHistory } from '../run-history.js';
import { colour, line, stepSection, type ReportSection } from './chart-kit.js';

/** The note standing in for the per-stage charts of a run whose metrics carry no `stages`. */
export const NO_STAGE_METRICS =
  'This run has no per-stage metrics: its metrics.jsonl lines carry no "stages" field, so throughput and wait times per stage cannot be shown.';

/**
 * Records/s of each pipeline stage over the steps, and the cumulative time each stage waited on its consumer
 * (backpressure, solid) and on its producer (dashed), from the lines' `stages` field; one note when there is none.
 */
export function stageCharts(h: RunHistory): ReportSection[] {
  if (h.stages.size === 0) return [{ kind: 'note', id: 'throughput', title: 'Throughput per stage', note: NO_STAGE_METRICS }];
  const { step } = h.metrics;
  const names = [...h.stages.keys()];
  const throughput: LineSeriesOption[] = names.map((name, i) => {
    const s = h.stages.get(name);
    return line(name, s ? seriesPoints(step, s.recordsPerSec, pointsPerSeries(names.length)) : [], { itemStyle: { color: colour(i) }, lineStyle: { color: colour(i) } });
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
  return [
    stepSection('throughput', 'Throughput per stage', 'Records per second through each stage; the slowest stage bounds the whole pipeline.', 'records/s', throughput),
    stepSection(
      'stage-waits', 'Time each stage waited (cumulative)',
      'Solid: waiting on the consumer (backpressure: the stage downstream is slower). Dashed: waiting on the producer (starved).',
      'seconds', waits,
    ),
  ];
}
