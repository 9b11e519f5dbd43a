import type { LineSeriesOption } from 'echarts/charts';
import { MAX_POINTS_PER_SERIES, seriesPoints } from '../downsample.js';
import type { PhaseSpan, RunHistory } from '../run-history.js';
import {
  collapseMarkers, colour, INK, line, markLines, phaseLabel, phaseMarkers, stepSection, type ReportSection,
} from './chart-kit.js';

const noSteps = (id: string, title: string): ReportSection => ({
  kind: 'note', id, title, note: 'No step logged yet: metrics.jsonl is empty.',
});

/**
 * The training-loss chart: the optimised loss as one series per curriculum phase (its own colour, named after the
 * phase's miner and batch size) with dashed markers at each phase switch, and the batch-hard ("hardest") loss on the
 * same batches, the figure that stays comparable across phases.
 */
export function lossChart(h: RunHistory): ReportSection {
  const id = 'loss';
  const title = 'Training loss by phase, and the hardest (batch-hard) loss';
  if (h.metrics.length === 0) return noSteps(id, title);
  const { step, loss, hardestLoss } = h.metrics;
  // the phases share the x axis, so they share one series' points in proportion to their length
  const share = (p: PhaseSpan) => Math.max(64, Math.round((MAX_POINTS_PER_SERIES * (p.endIndex - p.startIndex)) / h.metrics.length));
  const series: LineSeriesOption[] = h.phases.map((p, i) => line(phaseLabel(p), seriesPoints(step, loss, share(p), p.startIndex, p.endIndex), {
    itemStyle: { color: colour(i) }, lineStyle: { color: colour(i) },
  }));
  series.push(line('hardest (batch-hard) loss', seriesPoints(step, hardestLoss), {
    itemStyle: { color: INK }, lineStyle: { color: INK, type: 'dashed', width: 1 }, ...markLines([...phaseMarkers(h), ...collapseMarkers(h)]),
  }));
  return stepSection(id, title, 'Each phase of the curriculum in its own colour; dashed verticals mark the phase switches with the new miner and batch size.', 'loss', series);
}

/** The hardest (batch-hard) loss alone, with phase switches and the collapse marker: comparable across phases. */
export function hardestLossChart(h: RunHistory): ReportSection {
  const id = 'hardest-loss';
  const title = 'Hardest (batch-hard) loss';
  if (h.metrics.length === 0) return noSteps(id, title);
  const { step, hardestLoss } = h.metrics;
  return stepSection(id, title, 'The batch-hard loss on every logged batch, whatever the training miner; stuck at the margin, it means collapse.', 'loss', [
    line('hardest (batch-hard) loss', seriesPoints(step, hardestLoss), {
      itemStyle: { color: INK }, lineStyle: { color: INK }, ...markLines([...phaseMarkers(h), ...collapseMarkers(h)]),
    }),
  ]);
}

/** Fraction of the mined triplets with a non-zero loss, with phase switches. */
export function activeFractionChart(h: RunHistory): ReportSection {
  const id = 'active-fraction';
  const title = 'Active triplets (loss > 0)';
  if (h.metrics.length === 0) return noSteps(id, title);
  const { step, activeFraction } = h.metrics;
  return stepSection(id, title, 'Falls as the miner runs out of violating triplets; the auto curriculum moves on when it stays low.', 'fraction', [
    line('active fraction', seriesPoints(step, activeFraction), markLines(phaseMarkers(h))),
  ], { yMin: 0, yMax: 1 });
}

/** Mean anchor–positive and anchor–negative distances, with phase switches. */
export function distancesChart(h: RunHistory): ReportSection {
  const id = 'distances';
  const title = 'Mean positive and negative distance';
  if (h.metrics.length === 0) return noSteps(id, title);
  const { step, meanPos, meanNeg } = h.metrics;
  return stepSection(id, title, 'The gap between the two is what the triplet loss widens.', 'distance', [
    line('mean positive distance', seriesPoints(step, meanPos), { itemStyle: { color: colour(0) }, lineStyle: { color: colour(0) }, ...markLines(phaseMarkers(h)) }),
    line('mean negative distance', seriesPoints(step, meanNeg), { itemStyle: { color: colour(1) }, lineStyle: { color: colour(1) } }),
  ]);
}

/** Embedding spread, with the collapse marker when the detector fired. */
export function spreadChart(h: RunHistory): ReportSection {
  const id = 'spread';
  const title = 'Embedding spread';
  if (h.metrics.length === 0) return noSteps(id, title);
  const { step, spread } = h.metrics;
  const collapse = h.run?.collapse;
  const caption = collapse?.fired
    ? `The collapse detector fired at step ${collapse.atStep} (red marker): the embeddings stopped spreading out.`
    : 'A spread shrinking towards 0 means every input maps to nearly the same point (collapse).';
  return stepSection(id, title, caption, 'spread', [
    line('spread', seriesPoints(step, spread), {
      itemStyle: { color: colour(2) }, lineStyle: { color: colour(2) }, ...markLines([...phaseMarkers(h), ...collapseMarkers(h)]),
    }),
  ]);
}
