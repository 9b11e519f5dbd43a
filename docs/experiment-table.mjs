#!/usr/bin/env node
// Summarises `tripletflow train` output directories as the markdown tables of docs/experiment.md.
// usage: node docs/experiment-table.mjs runs/exp/banking77-random runs/exp/banking77-batch-hard ...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const every = 250;
const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write('usage: node docs/experiment-table.mjs RUN_DIR...\n');
  process.exit(1);
}
const runs = dirs.map((dir) => {
  const run = JSON.parse(readFileSync(`${dir}/run.json`, 'utf8'));
  const lines = readFileSync(`${dir}/metrics.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { name: basename(dir), run, lines };
});
const f3 = (x) => (x === undefined || x === null ? 'n/a' : x.toFixed(3));
console.log('| run | curriculum | MAP@R | P@1 | untrained MAP@R | steps/s | collapse detector |');
console.log('|---|---|---|---|---|---|---|');
for (const { name, run } of runs) {
  const c = run.collapse.fired ? `fired at step ${run.collapse.atStep}` : 'quiet';
  console.log(`| ${name} | \`${run.curriculum}\` | ${f3(run.final?.mean_average_precision_at_r)} | ${f3(run.final?.precision_at_1)} | ${f3(run.untrained?.mean_average_precision_at_r)} | ${run.stepsPerSec} | ${c} |`);
}
for (const key of ['hardestLoss', 'spread']) {
  console.log(`\n${key} (training batch, every ${every} steps):\n`);
  const steps = [...new Set(runs.flatMap((r) => r.lines.map((l) => l.step)))].filter((s) => s % every === 0).sort((a, b) => a - b);
  const last = Math.max(...runs.flatMap((r) => r.lines.map((l) => l.step)));
  if (!steps.includes(last)) steps.push(last);
  console.log(`| step | ${runs.map((r) => r.name).join(' | ')} |`);
  console.log(`|---|${runs.map(() => '---').join('|')}|`);
  for (const s of steps) {
    console.log(`| ${s} | ${runs.map((r) => f3(r.lines.find((l) => l.step === s)?.[key])).join(' | ')} |`);
  }
}
