// Run reports: a training run directory → report.html and one SVG per chart.
export * from './run-history.js';
export * from './json-lines.js';
export * from './read-run-history.js';
export * from './downsample.js';
export * from './charts/index.js';
export * from './render-svg.js';
export * from './summary.js';
export * from './report-html.js';
export * from './atomic-write.js';
export * from './write-report.js';
