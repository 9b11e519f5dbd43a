import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/logger.js';
import { runTrain } from '../../pipeline/train.js';
import { runEmbed, runEval } from '../../pipeline/embed.js';
import { readParquetBlocks } from '../../stages/adapters/parquet-reader.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';

const base: TrainConfigInput = {
  inputs: ['test/fixtures/small-corpus.jsonl'],
  eval: ['test/fixtures/small-eval.jsonl'],
  steps: 120,
  classes: 4,
  perClass: 4,
  curriculum: '0:semi-hard:4x4,60:batch-hard:8x4',
  embeddingDim: 32,
  head: [64, 32],
  lr: 3e-3,
  backend: 'cpu',
  workers: 0,
  logEvery: 1,
  progress: false,
  report: false,
  seed: 5,
};
const out = () => mkdtempSync(join(tmpdir(), 'tf-train-'));
const lines = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | boolean>);

describe('train on the small real corpus', () => {
  it('the loss falls, MAP@R beats the untrained model, outputs have the documented fields, and a rerun is identical', async () => {
    const dir = out();
    const r = await runTrain({ ...base, out: dir }, silentLogger());
    expect(r.status).toBe('done');
    expect(r.steps).toBe(120);
    expect(r.final?.mean_average_precision_at_r).toBeGreaterThan((r.untrained?.mean_average_precision_at_r ?? 1) + 0.02);
    const m = lines(dir);
    expect(m).toHaveLength(120);
    for (const k of ['step', 'epoch', 'phase', 'miner', 'batchSize', 'loss', 'hardestLoss', 'activeFraction', 'meanPos', 'meanNeg', 'spread', 'collapse', 'recordsSeen', 'ms', 'stages']) {
      expect(m[0]).toHaveProperty(k);
    }
    // per-stage figures: every stage of the feed and the trainer, with its output and busy / waiting times
    const stages = m.at(-1)?.stages as unknown as Record<string, { records: number; busyMs: number; waitProducerMs: number; waitConsumerMs: number; recordsPerSec: number }>;
    expect(Object.keys(stages)).toEqual(['read', 'validate', 'shuffle-window', 'tokenize', 'balance-batches', 'train-step']);
    expect(stages['train-step']?.records).toBe(120);
    expect(stages.read!.records).toBeGreaterThan(300);
    expect(stages['train-step']!.waitProducerMs).toBeCloseTo(['read', 'validate', 'shuffle-window', 'tokenize', 'balance-batches'].reduce((s, k) => s + stages[k]!.busyMs, 0), -1);
    for (const s of Object.values(stages)) expect(s.waitConsumerMs).toBeGreaterThanOrEqual(0);
    const mean = (xs: Array<Record<string, number | string | boolean>>) => xs.reduce((s, x) => s + (x.hardestLoss as number), 0) / xs.length;
    expect(mean(m.slice(-20))).toBeLessThan(mean(m.slice(0, 20)));
    expect(new Set(m.map((x) => x.miner))).toEqual(new Set(['semi-hard', 'batch-hard']));
    expect(m.at(-1)?.batchSize).toBe(32);

    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['config', 'versions', 'backend', 'records', 'quarantineByReason', 'curriculum', 'status']) expect(run).toHaveProperty(k);
    expect((run.config as { seed: number }).seed).toBe(5);
    const rec = run.records as { read: number; trained: number; quarantined: number; reused: number; carriedDuplicates: number; waitingAtStop: number };
    expect(rec.read).toBeGreaterThan(300);
    // every record read is accounted for: trained, quarantined, a carried duplicate, or still waiting at the stop
    expect(rec.trained).toBe(120 * 16 + 60 * 16);
    expect(rec.waitingAtStop).toBeGreaterThanOrEqual(0);
    expect(rec.read + rec.reused).toBe(rec.trained + rec.quarantined + rec.carriedDuplicates + rec.waitingAtStop);
    const ev = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['precision_at_1', 'r_precision', 'mean_average_precision_at_r', 'untrained', 'history']) expect(ev).toHaveProperty(k);
    expect(existsSync(join(dir, 'model', 'model.json'))).toBe(true);
    expect(existsSync(join(dir, 'quarantine.jsonl'))).toBe(true);

    const again = out();
    await runTrain({ ...base, out: again }, silentLogger());
    const strip = (xs: Array<Record<string, unknown>>) => xs.map(({ ms: _ms, stages: _stages, ...rest }) => rest);
    expect(strip(lines(again))).toEqual(strip(m));
  });

  it('batch-hard from step 0 with a large learning rate collapses and --stop-on-collapse stops with exit code 3', async () => {
    const r = await runTrain({
      ...base, out: out(), curriculum: undefined, miner: 'batch-hard', lr: 0.05, steps: 400, collapseWindow: 20, stopOnCollapse: true,
    }, silentLogger());
    expect(r.collapse.fired).toBe(true);
    expect(r.status).toBe('collapsed');
    expect(r.exitCode).toBe(3);
  });

  it('eval and embed reuse a saved model: eval reproduces the final metrics, embed writes unit vectors to parquet', async () => {
    const dir = out();
    const r = await runTrain({ ...base, out: dir, steps: 20 }, silentLogger());
    const ev = await runEval({ model: join(dir, 'model'), inputs: ['test/fixtures/small-eval.jsonl'], backend: 'cpu' }, silentLogger());
    expect(ev.mean_average_precision_at_r).toBeCloseTo(r.final?.mean_average_precision_at_r as number, 10);
    const file = join(dir, 'emb.parquet');
    const e = await runEmbed({ model: join(dir, 'model'), inputs: ['test/fixtures/small-eval.jsonl'], out: file, backend: 'cpu' }, silentLogger());
    expect(e).toMatchObject({ records: 150, embedded: 150, dim: 32 });
    const rows: Array<{ id: string; embedding: number[] }> = [];
    for await (const b of readParquetBlocks(file, {})) rows.push(...(b.rows as typeof rows));
    expect(rows).toHaveLength(150);
    const v = Array.from(rows[0]?.embedding ?? []);
    expect(v).toHaveLength(32);
    expect(v.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 4);
  });

  it('bad input: unseen eval labels, an unknown miner, a negative learning rate', async () => {
    await expect(runTrain({ ...base, out: out(), steps: 5, eval: ['test/fixtures/unseen-labels.jsonl'] }, silentLogger()))
      .rejects.toThrow(/unseen-labels\.jsonl/);
    await expect(runTrain({ ...base, out: out(), curriculum: undefined, miner: 'hardest' }, silentLogger())).rejects.toThrow(/unknown miner "hardest"/);
    await expect(runTrain({ ...base, out: out(), lr: -1 }, silentLogger())).rejects.toThrow(/lr: the learning rate must be > 0/);
  });
});
