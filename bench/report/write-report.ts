// Time of writeReport on a long run. Generates a fake run directory with N metrics lines (default 100,000) in a tmp
// dir, then times: the first call in a process (full read + loading ECharts), a full re-read of metrics.jsonl, and
// the checkpoint case (1,000 lines appended between calls; only they are parsed), with the parts.
// npx tsx bench/report/write-report.ts [--lines 100000] [--stages a,b,c] [--rounds 5]
import { appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSections } from '../../pipeline/report/charts/index.js';
import { MetricsReader } from '../../pipeline/report/metrics-reader.js';
import { readRunHistory } from '../../pipeline/report/read-run-history.js';
import { writeReport } from '../../pipeline/report/write-report.js';
import { fakeMetricsLine, fakeRunDir, type FakeRunOptions } from '../../test/helpers/fake-run.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '100000' },
    stages: { type: 'string', default: '' },
    rounds: { type: 'string', default: '5' },
  },
});
const lines = Number(values.lines);
const stages = values.stages ? values.stages.split(',').filter(Boolean) : [];
const rounds = Number(values.rounds);
const APPEND = 1000;

const opts: FakeRunOptions = {
  steps: lines,
  stages,
  phases: [
    { fromStep: 0, miner: 'semi-hard', batchSize: 64 },
    { fromStep: Math.floor(lines / 3), miner: 'hard-negative', batchSize: 128 },
    { fromStep: Math.floor((2 * lines) / 3), miner: 'batch-hard', batchSize: 256 },
  ],
  quarantine: [['validate', 'bad_json', 40], ['balance-batches', 'incomplete_batch', 12]],
};
let t = performance.now();
const dir = fakeRunDir(opts);
const metrics = join(dir, 'metrics.jsonl');
const mb = statSync(metrics).size / 2 ** 20;
console.log(`${dir}: metrics.jsonl ${lines.toLocaleString('en-US')} lines, ${mb.toFixed(1)} MB, ${stages.length} stages (generated in ${((performance.now() - t) / 1000).toFixed(1)} s)`);

const ms = (x: number) => `${x.toFixed(0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// wall time, and this process's CPU time (user + system; less at the mercy of other jobs on a shared machine)
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
t = performance.now();
let cpu = process.cpuUsage();
const first = await writeReport(dir);
console.log(`first call in the process (full read, loads ECharts): ${ms(performance.now() - t)} (CPU ${ms(cpuMs(process.cpuUsage(cpu)))}); report.html ${(statSync(first.html).size / 1024).toFixed(0)} KB, ${first.charts.length} charts`);

const full: number[] = [];
const fullCpu: number[] = [];
for (let r = 0; r < rounds; r++) {
  t = performance.now();
  cpu = process.cpuUsage();
  await new MetricsReader(metrics).read();
  full.push(performance.now() - t);
  fullCpu.push(cpuMs(process.cpuUsage(cpu)));
}
console.log(`full read of metrics.jsonl (what a one-shot \`tripletflow report\` does), median of ${rounds}: ${ms(median(full))} (CPU ${ms(median(fullCpu))})`);

const checkpoint: number[] = [];
const checkpointCpu: number[] = [];
let step = lines;
for (let r = 0; r < rounds; r++) {
  const more: string[] = [];
  for (let i = 0; i < APPEND; i++) more.push(JSON.stringify(fakeMetricsLine(step++, { ...opts, steps: lines + rounds * APPEND })));
  appendFileSync(metrics, `${more.join('\n')}\n`);
  t = performance.now();
  cpu = process.cpuUsage();
  await writeReport(dir);
  checkpoint.push(performance.now() - t);
  checkpointCpu.push(cpuMs(process.cpuUsage(cpu)));
}
console.log(`checkpoint: writeReport after ${APPEND} more lines, median of ${rounds}: ${ms(median(checkpoint))} (min ${ms(Math.min(...checkpoint))}, max ${ms(Math.max(...checkpoint))}; CPU median ${ms(median(checkpointCpu))})`);

const a = performance.now();
const h = await readRunHistory(dir);
const b = performance.now();
const sections = buildSections(h);
const c = performance.now();
const { renderSvg } = await import('../../pipeline/report/render-svg.js');
for (const s of sections) if (s.kind === 'chart') renderSvg(s.option, s.height !== undefined ? { height: s.height } : {});
const d = performance.now();
console.log(`parts at a checkpoint (${h.metrics.length.toLocaleString('en-US')} lines): read ${ms(b - a)}, chart options ${ms(c - b)}, SVG rendering ${ms(d - c)}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
