import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrainConfigSchema, type TrainConfig } from '../schemas/train-config.js';
import { loadTokenizer } from '../stages/adapters/tokenizer.js';
import { batchDiagnostics } from '../stages/metric/diagnostics.js';
import { tripletLoss } from '../stages/metric/triplet-loss.js';
import { selectBackend } from './backend.js';
import { CheckpointStore, type LoadedCheckpoint } from './checkpoint/checkpoint-store.js';
import { restoreTrainingTensors, type TensorsIndex } from './checkpoint/training-tensors.js';
import { parseConfig } from './config.js';
import { RunContext } from './context.js';
import { FatalError } from './errors.js';
import type { Logger } from './logger.js';
import { defaultTokenizerDir } from './paths.js';
import { readRecording } from './recording/recording-reader.js';
import type { RngState } from './rng.js';
import { buildModelAndTrainer } from './training/build-trainer.js';

/** Options of `runReplay`. */
export interface ReplayOptions {
  /** A directory written by `train --record`. */
  readonly recording: string;
  /** First step reported. Default 0. */
  readonly fromStep?: number;
  /** Last step replayed (inclusive). Default: the end of the recording. */
  readonly toStep?: number;
  /**
   * A checkpoint directory (`…/checkpoints/step-000001000`) or a run directory (its newest checkpoint at or before
   * `fromStep` is used). Without it, replay starts from the model the recorded config initialises at step 0.
   */
  readonly model?: string;
  /** `train` (default) re-runs the optimiser on each batch; `eval` only computes each batch's losses with the model. */
  readonly mode?: 'train' | 'eval';
  readonly logger?: Logger;
}

/** One replayed step next to what was recorded. */
export interface ReplayLine {
  readonly step: number;
  readonly miner: string;
  readonly loss: number;
  readonly recordedLoss: number;
  readonly hardestLoss: number;
  readonly recordedHardestLoss: number;
}

/** What `runReplay` returns. */
export interface ReplayReport {
  readonly mode: 'train' | 'eval';
  readonly fromCheckpoint: number | null;
  readonly firstStep: number;
  readonly lastStep: number;
  readonly steps: number;
  /** Largest |replayed − recorded| training loss over the reported steps. */
  readonly maxAbsLossDiff: number;
  /** Every reported loss equal to the recorded one, bit for bit. */
  readonly identical: boolean;
  readonly lines: ReplayLine[];
}

/**
 * Re-runs training (or evaluation) on exactly the batches of a recording: from the checkpoint at (or before) the
 * range's start, the optimiser sees the recorded batches with the recorded miners, so on the same backend the losses
 * reproduce the recorded ones; any difference is reported per step.
 */
export async function runReplay(opts: ReplayOptions): Promise<ReplayReport> {
  const metaPath = join(opts.recording, 'recording.json');
  if (!existsSync(metaPath)) throw new FatalError(`${opts.recording}: not a recording (no recording.json); record one with \`tripletflow train --record DIR\``, { file: opts.recording });
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { config: TrainConfig };
  const from = opts.fromStep ?? 0;
  const to = opts.toStep ?? Infinity;
  if (to < from) throw new FatalError(`replay: --to-step ${to} is before --from-step ${from}`);
  const mode = opts.mode ?? 'train';
  const ckpt = opts.model ? await findCheckpoint(opts.model, from, opts.logger) : undefined;
  const state = ckpt ? JSON.parse((ckpt.files.get('state.json') as Buffer).toString('utf8')) as { config: TrainConfig; rngStates: Record<string, RngState> } : undefined;
  const cfg = parseConfig(TrainConfigSchema, state?.config ?? meta.config, 'replay');
  const ctx = new RunContext({ seed: cfg.seed, ...(opts.logger ? { logger: opts.logger } : {}) });
  if (state) ctx.restoreRngStates(state.rngStates);
  await selectBackend(cfg.backend);
  const tokenizer = await loadTokenizer(cfg.tokenizer ?? defaultTokenizerDir);
  const { model, trainer } = buildModelAndTrainer(cfg, tokenizer.vocabSize, ctx);
  try {
    if (ckpt) {
      const index = JSON.parse((ckpt.files.get('tensors.json') as Buffer).toString('utf8')) as TensorsIndex;
      await restoreTrainingTensors(model, trainer, ckpt.files.get('tensors.bin') as Buffer, index);
    }
    const start = ckpt ? ckpt.step : 0;
    if (mode === 'eval' && start < from && !ckpt) {
      // evaluation needs the model of the range's start; without a checkpoint that is the untrained one
      opts.logger?.warn({ from }, 'replay --mode eval without --model evaluates the untrained model');
    }
    const lines: ReplayLine[] = [];
    for await (const r of readRecording(opts.recording, mode === 'eval' ? from : start, to)) {
      let loss: number;
      let hardest: number;
      if (mode === 'train') {
        const res = trainer.step({ ...r.batch, step: r.step }, r.miner);
        loss = res.loss;
        hardest = res.hardestLoss;
      } else {
        const emb = model.embed(r.batch.docs.map((d) => d.ids));
        const x = { data: emb, rows: r.batch.docs.length, cols: emb.length / r.batch.docs.length };
        const res = tripletLoss({ miner: r.miner, margin: cfg.margin, squared: true, normalize: cfg.normalize }, { rng: () => ctx.rng('miner:random').next() })
          .compute(x, r.batch.classIndex, { grad: false });
        loss = res.loss;
        hardest = batchDiagnostics(res.distances, r.batch.classIndex, cfg.margin).hardestLoss;
      }
      if (r.step >= from) {
        lines.push({ step: r.step, miner: r.miner.name, loss, recordedLoss: r.loss, hardestLoss: hardest, recordedHardestLoss: r.hardestLoss });
      }
    }
    if (lines.length === 0) throw new FatalError(`replay: the recording holds no step in ${from}..${to === Infinity ? 'end' : to}`);
    const diffs = lines.map((l) => Math.abs(l.loss - l.recordedLoss));
    return {
      mode,
      fromCheckpoint: ckpt?.step ?? null,
      firstStep: lines[0]!.step,
      lastStep: lines.at(-1)!.step,
      steps: lines.length,
      maxAbsLossDiff: Math.max(...diffs),
      identical: lines.every((l) => Object.is(l.loss, l.recordedLoss)),
      lines,
    };
  } finally {
    trainer.dispose();
    model.dispose();
    await ctx.close();
  }
}

/** A checkpoint directory, or the newest checkpoint of a run directory at or before `step`. */
async function findCheckpoint(path: string, step: number, logger?: Logger): Promise<LoadedCheckpoint> {
  if (existsSync(join(path, 'checkpoint.json'))) return CheckpointStore.loadDir(path);
  const store = new CheckpointStore(join(path, 'checkpoints'), 1, logger);
  const at = store.steps().find((s) => s <= step);
  if (at === undefined) throw new FatalError(`replay: ${path} has no checkpoint at or before step ${step} (it has ${store.steps().join(', ') || 'none'}); pass a checkpoint directory or an earlier --from-step`, { file: path });
  return CheckpointStore.loadDir(join(path, 'checkpoints', `step-${String(at).padStart(9, '0')}`));
}
