import type { RunHistory } from '../run-history.js';
import type { ReportSection } from './chart-kit.js';
import { evalChart } from './eval-chart.js';
import { quarantineChart } from './quarantine-chart.js';
import { stageCharts } from './stage-charts.js';
import { activeFractionChart, distancesChart, hardestLossChart, lossChart, spreadChart } from './step-charts.js';

export * from './chart-kit.js';
export { evalChart, RETRIEVAL_METRICS } from './eval-chart.js';
export { quarantineChart } from './quarantine-chart.js';
export { NO_STAGE_METRICS, stageCharts } from './stage-charts.js';
export { activeFractionChart, distancesChart, hardestLossChart, lossChart, spreadChart } from './step-charts.js';

/** Every section of the report, in page order: a chart where the run has the data, else a note saying why not. */
export function buildSections(h: RunHistory): ReportSection[] {
  return [
    lossChart(h),
    hardestLossChart(h),
    activeFractionChart(h),
    distancesChart(h),
    spreadChart(h),
    evalChart(h),
    quarantineChart(h),
    ...stageCharts(h),
  ];
}

/** File stems of every chart a report can hold, so that a chart a later report no longer draws can be removed. */
export const CHART_IDS = ['loss', 'hardest-loss', 'active-fraction', 'distances', 'spread', 'eval', 'quarantine', 'throughput', 'stage-busy', 'stage-waits'] as const;
