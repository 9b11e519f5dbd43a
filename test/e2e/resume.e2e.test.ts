import { mkdtempSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/logger.js';
import { runTrain } from '../../pipeline/train.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';
import { evalOf, metricsOf } from '../helpers/run-outputs.js';

const resumeConfig: TrainConfigInput = {
  inputs: ['test/fixtures/small-corpus.jsonl'],
  eval: ['test/fixtures/small-eval.jsonl'],
  steps: 60,
  classes: 4,
  perClass: 4,
  curriculum: '0:semi-hard:4x4,25:batch-hard:6x4',
  embeddingDim: 16,
  head: [32, 16],
  lr: 3e-3,
  backend: 'cpu',
  shuffleWindow: 64,
  evalEvery: 20,
  logEvery: 1,
  checkpointEvery: 7,
  progress: false,
  report: false,
  seed: 11,
};

const tmp = () => mkdtempSync(join(tmpdir(), 'tf-resume-'));
const recordsOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { records: unknown }).records;

describe('stop and resume', () => {
  it('a run stopped twice and resumed gives the same metrics, losses, evaluations and accounting as an uninterrupted one', async () => {
    const a = tmp();
    const full = await runTrain({ ...resumeConfig, out: a }, silentLogger());
    expect(full.status).toBe('done');

    const b = tmp();
    const first = await runTrain({ ...resumeConfig, out: b }, { logger: silentLogger(), shouldStop: (s) => s === 23 });
    expect(first.status).toBe('resumable');
    expect(first.exitCode).toBe(0);
    expect(first.steps).toBe(23);
    const second = await runTrain({}, { logger: silentLogger(), resume: b, shouldStop: (s) => s === 41 });
    expect(second.steps).toBe(41);
    const third = await runTrain({}, { logger: silentLogger(), resume: b });
    expect(third.status).toBe('done');
    expect(third.steps).toBe(60);
    expect(metricsOf(b)).toEqual(metricsOf(a));
    expect(evalOf(b)).toEqual(evalOf(a));
    expect(recordsOf(b)).toEqual(recordsOf(a));
    expect(readFileSync(join(b, 'quarantine.jsonl'), 'utf8')).toBe(readFileSync(join(a, 'quarantine.jsonl'), 'utf8'));
  }, 120_000);

  it("overflowEntries 'per-class': the overflow not written yet at a stop is in the checkpoint; the resumed quarantine file is identical", async () => {
    const config: TrainConfigInput = { ...resumeConfig, steps: 40, poolCapacity: 32, overflowEntries: 'per-class' };
    const a = tmp();
    const full = await runTrain({ ...config, out: a }, silentLogger());
    const b = tmp();
    const stopped = await runTrain({ ...config, out: b }, { logger: silentLogger(), shouldStop: (s) => s === 17 });
    // the same accounting as one entry per record, at the stop (overflow still pending is written then) and at the end
    const perRecord = { ...config, overflowEntries: 'per-record' as const };
    const stoppedPerRecord = await runTrain({ ...perRecord, out: tmp() }, { logger: silentLogger(), shouldStop: (s) => s === 17 });
    const fullPerRecord = await runTrain({ ...perRecord, out: tmp() }, silentLogger());
    expect(stopped.quarantineByReason['balance-batches.pool_overflow']).toBeGreaterThan(0);
    expect(stopped.quarantineByReason).toEqual(stoppedPerRecord.quarantineByReason);
    expect(stopped.records).toEqual(stoppedPerRecord.records);
    expect(full.quarantineByReason).toEqual(fullPerRecord.quarantineByReason);
    expect(full.records).toEqual(fullPerRecord.records);
    const done = await runTrain({}, { logger: silentLogger(), resume: b });
    expect(done.status).toBe('done');
    const entries = readFileSync(join(a, 'quarantine.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { reason: string; recordId: string | null; record: { count?: number } });
    const summaries = entries.filter((e) => e.reason === 'pool_overflow');
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries.every((e) => e.recordId === null && (e.record.count ?? 0) >= 1)).toBe(true);
    expect(readFileSync(join(b, 'quarantine.jsonl'), 'utf8')).toBe(readFileSync(join(a, 'quarantine.jsonl'), 'utf8'));
    expect(metricsOf(b)).toEqual(metricsOf(a));
    expect(recordsOf(b)).toEqual(recordsOf(a));
  }, 120_000);

  it('a damaged latest checkpoint: the resume falls back to the previous one and still ends identical', async () => {
    const a = tmp();
    await runTrain({ ...resumeConfig, steps: 40, out: a }, silentLogger());
    const b = tmp();
    await runTrain({ ...resumeConfig, steps: 40, out: b }, { logger: silentLogger(), shouldStop: (s) => s === 30 });
    const ckpts = readdirSync(join(b, 'checkpoints')).sort();
    expect(ckpts.at(-1)).toBe('step-000000030');
    truncateSync(join(b, 'checkpoints', ckpts.at(-1)!, 'tensors.bin'), 100);
    const warnings: string[] = [];
    const logger = silentLogger();
    const warn = logger.warn.bind(logger);
    logger.warn = ((o: unknown, msg?: string) => { warnings.push(String(msg ?? o)); return warn(o as object, msg); }) as typeof logger.warn;
    const r = await runTrain({}, { logger, resume: b });
    expect(warnings.join('\n')).toMatch(/damaged/);
    expect(r.steps).toBe(40);
    expect(metricsOf(b)).toEqual(metricsOf(a));
    expect(evalOf(b)).toEqual(evalOf(a));
  }, 120_000);

  it('--resume of a directory without a checkpoint starts a new run there', async () => {
    const b = tmp();
    const r = await runTrain({ ...resumeConfig, steps: 5, checkpointEvery: 0 }, { logger: silentLogger(), resume: b });
    expect(r.status).toBe('done');
    expect(r.out).toBe(b);
    expect(readdirSync(join(b, 'checkpoints'))).toEqual(['step-000000005']);
  });
});
