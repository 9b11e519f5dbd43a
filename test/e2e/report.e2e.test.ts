import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/logger.js';
import { writeReport } from '../../pipeline/report/write-report.js';
import { runTrain } from '../../pipeline/train.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';
import { expectWellFormedSvg, svgTexts } from '../helpers/svg.js';

const config: TrainConfigInput = {
  inputs: ['test/fixtures/small-corpus.jsonl'],
  eval: ['test/fixtures/small-eval.jsonl'],
  steps: 40,
  evalEvery: 20,
  curriculum: '0:semi-hard:4x4,20:batch-hard:8x4',
  embeddingDim: 16,
  head: [32, 16],
  lr: 3e-3,
  backend: 'cpu',
  workers: 0,
  logEvery: 1,
  progress: false,
  seed: 5,
};

describe('report of a real training run', () => {
  it('train on the small corpus, then writeReport: every chart written, phases, eval history and quarantine from the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-report-e2e-'));
    const run = await runTrain({ ...config, out: dir }, silentLogger());
    expect(run.status).toBe('done');
    const r = await writeReport(dir);
    const names = r.charts.map((c) => c.slice(join(dir, 'report').length + 1));
    // per-stage charts follow what the training loop logs (stages, and busyMs among them)
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
    const hasStages = lines.includes('"stages"');
    const hasBusy = lines.includes('"busyMs"');
    expect(names).toEqual([
      'loss.svg', 'hardest-loss.svg', 'active-fraction.svg', 'distances.svg', 'spread.svg', 'eval.svg', 'quarantine.svg',
      ...(hasStages ? ['throughput.svg', ...(hasBusy ? ['stage-busy.svg'] : []), 'stage-waits.svg'] : []),
    ]);
    const html = readFileSync(r.html, 'utf8');
    expect(html.match(/<svg[\s>]/g)).toHaveLength(r.charts.length);
    expect(html).not.toMatch(/<script|<link|(src|href)\s*=\s*["']?https?:/i);
    for (const c of r.charts) expectWellFormedSvg(readFileSync(c, 'utf8'));

    const loss = svgTexts(readFileSync(join(dir, 'report', 'loss.svg'), 'utf8'));
    expect(loss).toEqual(expect.arrayContaining(['phase 0 · semi-hard (16)', 'phase 1 · batch-hard (32)', 'hardest (batch-hard) loss', 'batch-hard (32)']));
    expect(svgTexts(readFileSync(join(dir, 'report', 'eval.svg'), 'utf8'))).toEqual(expect.arrayContaining(['P@1', 'R-precision', 'MAP@R']));
    // the fixture's deliberately bad records, by reason, as run.json counts them
    const quarantine = svgTexts(readFileSync(join(dir, 'report', 'quarantine.svg'), 'utf8'));
    for (const [reason, n] of Object.entries(run.quarantineByReason)) {
      expect(quarantine).toContain(reason);
      expect(quarantine).toContain(String(n));
    }
    expect(html).toMatch(/<th>status<\/th><td>done<\/td>/);
    expect(html).toMatch(new RegExp(`<th>steps</th><td>${run.steps}</td>`));
    expect(html).toContain(`<th>MAP@R</th><td class="num">${run.untrained?.mean_average_precision_at_r.toFixed(3)}</td><td class="num">${run.final?.mean_average_precision_at_r.toFixed(3)}</td>`);
    expect(html).toContain('(every record accounted for)');
  });
});
