import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/logger.js';
import { readRecording } from '../../pipeline/recording/recording-reader.js';
import { runReplay } from '../../pipeline/replay.js';
import { runTrain } from '../../pipeline/train.js';
import { TrainingFeed } from '../../pipeline/training/training-feed.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';
import { testContext } from '../helpers/test-context.js';
import { metricsOf } from '../helpers/run-outputs.js';

const config: TrainConfigInput = {
  inputs: ['test/fixtures/small-corpus.jsonl'],
  eval: ['test/fixtures/small-eval.jsonl'],
  steps: 40,
  classes: 4,
  perClass: 4,
  curriculum: '0:semi-hard:4x4,15:random:4x4,25:batch-hard:6x4',
  embeddingDim: 16,
  head: [32, 16],
  lr: 3e-3,
  backend: 'cpu',
  shuffleWindow: 64,
  logEvery: 1,
  checkpointEvery: 10,
  keepCheckpoints: 10,
  progress: false,
  report: false,
  seed: 4,
};
const tmp = () => mkdtempSync(join(tmpdir(), 'tf-record-'));

async function steps(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readRecording(dir)) out.push(`${r.step}|${r.phase}|${r.miner.name}|${r.batch.ids.join(',')}|${r.loss}`);
  return out;
}

describe('record and replay', () => {
  it('records every trained batch; replaying a range from the checkpoint at its start reproduces the recorded losses', async () => {
    const run = tmp();
    const rec = join(run, 'recording');
    await runTrain({ ...config, out: run, record: rec }, silentLogger());
    const recorded = await steps(rec);
    expect(recorded).toHaveLength(40);
    // the recorded losses are the logged ones
    expect(recorded.map((s) => Number(s.split('|')[4]))).toEqual(metricsOf(run).map((m) => m.loss));

    // steps 12..33 from the checkpoint of step 10 (it crosses into the random and batch-hard phases)
    const r = await runReplay({ recording: rec, model: run, fromStep: 12, toStep: 33, logger: silentLogger() });
    expect(r.fromCheckpoint).toBe(10);
    expect(r.steps).toBe(22);
    expect(r.identical).toBe(true);
    expect(r.maxAbsLossDiff).toBe(0);
    expect(new Set(r.lines.map((l) => l.miner))).toEqual(new Set(['semi-hard', 'random', 'batch-hard']));

    // from the initial model, no checkpoint needed
    const r0 = await runReplay({ recording: rec, toStep: 5, logger: silentLogger() });
    expect(r0.identical).toBe(true);

    // eval mode: losses of the batches under the checkpointed model, without training; the step right after the
    // checkpoint is the one whose recorded loss was computed with exactly that model
    const ev = await runReplay({ recording: rec, model: join(run, 'checkpoints', 'step-000000030'), fromStep: 30, toStep: 32, mode: 'eval', logger: silentLogger() });
    expect(ev.lines).toHaveLength(3);
    expect(ev.lines[0]!.loss).toBeCloseTo(ev.lines[0]!.recordedLoss, 5);
    expect(ev.lines[2]!.loss).not.toBe(ev.lines[2]!.recordedLoss);
  }, 120_000);

  it('a resumed run continues its recording without gaps or repeats, identical to an uninterrupted recording', async () => {
    const a = tmp();
    await runTrain({ ...config, out: a, record: join(a, 'rec') }, silentLogger());
    const b = tmp();
    await runTrain({ ...config, out: b, record: join(b, 'rec') }, { logger: silentLogger(), shouldStop: (s) => s === 17 });
    await runTrain({}, { logger: silentLogger(), resume: b });
    expect(await steps(join(b, 'rec'))).toEqual(await steps(join(a, 'rec')));
  }, 120_000);

  it('a recording is also a tokenized corpus a feed can read', async () => {
    const run = tmp();
    await runTrain({ ...config, steps: 12, out: run, record: join(run, 'rec') }, silentLogger());
    const ctx = testContext({ seed: 1 });
    const feed = await TrainingFeed.open(ctx, { data: { inputs: [join(run, 'rec')], shuffleWindow: 16 }, balance: { schedule: '0:2x4' } });
    const b = await feed.next();
    expect(b.docs).toHaveLength(8);
    expect(ctx.quarantine.count()).toBe(0);
    await feed.close();
  }, 60_000);

  it('a path that is not a recording is a clear error', async () => {
    await expect(runReplay({ recording: tmp() })).rejects.toThrow(/not a recording \(no recording.json\)/);
  });
});
