// Run reports: a training run directory → report.html and one SVG per chart. The public part of pipeline/report/;
// render-svg.ts stays out so that importing the package does not load ECharts (writeReport loads it on first use).
export * from './run-history.js';
export { readRunHistory } from './read-run-history.js';
export { readJsonLines, type JsonLinesResult } from './json-lines.js';
export { MAX_POINTS_PER_SERIES, minMaxIndices, seriesPoints } from './downsample.js';
export { buildSections, CHART_IDS, NO_STAGE_METRICS, type ChartOption, type ReportSection } from './charts/index.js';
export { buildSummary, type ReportSummary, type ScoreRow } from './summary.js';
export { reportHtml, type ReportPage } from './report-html.js';
export { writeFileAtomic } from './atomic-write.js';
export { writeReport, type WrittenReport } from './write-report.js';
