import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from '../schemas/train-config.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import type { Batch } from '../schemas/batch.js';
import { loadTokenizer } from '../stages/adapters/tokenizer.js';
import type { StepResult } from '../stages/train-step.js';
import { selectBackend, type BackendReport } from './backend.js';
import { parseConfig } from './config.js';
import { RunContext } from './context.js';
import { buildDataGraph, type DataGraphExtras } from './data-graph.js';
import { setupPretrained } from './training/pretrained.js';
import { ConfigError, FatalError } from './errors.js';
import { ExitCode, rejectRateExitCode } from './exit-codes.js';
import type { Logger } from './logger.js';
import { defaultEvalCorpus, defaultTokenizerDir, defaultTrainCorpus, packageRoot } from './paths.js';
import { peakRssMb, startStepProgress } from './progress.js';
import { pullOne } from './stage.js';
import { CheckpointStore } from './checkpoint/checkpoint-store.js';
import { encodeTrainingTensors, restoreTrainingTensors, type TensorsIndex } from './checkpoint/training-tensors.js';
import type { QuarantineState } from './quarantine.js';
import type { RngState } from './rng.js';
import { deadlineOf } from './training/deadline.js';
import { buildModelAndTrainer } from './training/build-trainer.js';
import { BatchRecorder } from './recording/batch-recorder.js';
import { ReportRefresher } from './report/report-refresher.js';

export { TOKEN_LR_FACTOR, tokenLearningRate } from './training/build-trainer.js';
import { FEED_STAGES, TrainingFeed, type FeedState } from './training/training-feed.js';
import type { StageTiming } from './stage-clock.js';

const TRAIN_STEP = FEED_STAGES.indexOf('train-step');
import { CollapseDetector, COLLAPSE_ADVICE } from './training/collapse-detector.js';
import { CurriculumTracker, defaultCurriculum, parseCurriculum, parseMiner, singlePhase, type Curriculum } from './training/curriculum.js';
import { evaluateModel, type EvalMetrics } from './training/evaluate.js';

/** What `runTrain` returns (and writes as run.json). */
export interface TrainReport {
  /** `done`: all steps ran; `resumable`: stopped by a deadline or a signal, continue with `--resume`; `collapsed`: --stop-on-collapse. */
  readonly status: 'done' | 'resumable' | 'collapsed';
  readonly exitCode: number;
  readonly out: string;
  /** Steps done so far (over every session of the run). */
  readonly steps: number;
  /** Steps the run is configured for. */
  readonly stepsTotal: number;
  readonly seconds: number;
  readonly stepsPerSec: number;
  readonly backend: BackendReport;
  readonly curriculum: string;
  readonly collapse: { fired: boolean; atStep: number | null };
  readonly untrained: EvalMetrics | null;
  readonly final: EvalMetrics | null;
  readonly records: Record<string, number>;
  readonly quarantineByReason: Record<string, number>;
  readonly peakRssMb: number;
}

/** Log line of one step in metrics.jsonl. */
export interface MetricsLine extends StepResult {
  readonly phase: number;
  readonly collapse: boolean;
  readonly recordsSeen: number;
  /** Per-stage output, rate over the logging interval, and busy / waiting times (ms, this session). */
  readonly stages: Record<string, StageTiming>;
}

function packageVersions(): Record<string, string> {
  const v = (p: string) => {
    try {
      return (JSON.parse(readFileSync(join(packageRoot, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'missing';
    }
  };
  const own = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return { tripletflow: own.version, node: process.version, '@tensorflow/tfjs': v('@tensorflow/tfjs'), highland: v('highland') };
}

/** Reads a held-out file into memory (bounded by evalLimit), in file order. */
async function loadEvalDocs(ctx: RunContext, cfg: TrainConfig, inputs: string[], extras: DataGraphExtras = {}): Promise<TokenizedDoc[]> {
  const data = await buildDataGraph(ctx, {
    ...cfg, inputs, shuffleWindow: 1, shuffleShards: false, interleave: 1, limit: cfg.evalLimit, epoch: 0,
  }, extras);
  const docs: TokenizedDoc[] = [];
  const s = data.graph.stream();
  for (let r = await pullOne(s); !r.done; r = await pullOne(s)) docs.push(r.value);
  if (docs.length < 2) throw new FatalError(`eval: ${inputs.join(', ')} holds ${docs.length} usable record(s); evaluation needs at least 2`);
  return docs;
}

/** The curriculum a config asks for. */
export function curriculumOf(cfg: TrainConfig, classes: number): Curriculum {
  if (cfg.curriculum) return parseCurriculum(cfg.curriculum);
  if (cfg.miner) return singlePhase(parseMiner(cfg.miner), Math.min(cfg.classes, Math.max(2, classes)), cfg.perClass);
  return defaultCurriculum(cfg.steps, classes, cfg.classes, cfg.perClass);
}

/** How `runTrain` is run (beyond the config). */
export interface TrainRunOptions {
  readonly logger?: Logger;
  /**
   * A run directory to continue: from its newest checkpoint that verifies, with the config saved there (only the
   * operational options — steps, checkpoint cadence, deadline, progress — are taken from the new input). Without a
   * checkpoint there, a new run starts in that directory with the given config, so a nightly job runs one command.
   */
  readonly resume?: string;
  /** Stop cleanly on SIGINT/SIGTERM (finish the step, write a checkpoint, status `resumable`). The CLI turns it on. */
  readonly handleSignals?: boolean;
  /** Asked before each step; true stops the run resumably there (an embedding scheduler's own deadline, tests). */
  readonly shouldStop?: (step: number) => boolean;
}

/** Options a resumed run takes from its new command line rather than from the checkpoint. */
const OPERATIONAL = ['steps', 'checkpointEvery', 'keepCheckpoints', 'maxDuration', 'until', 'progress', 'logEvery', 'evalEvery', 'maxRejectRate', 'stopOnCollapse', 'backend', 'report'] as const;

/** What a checkpoint's state.json holds besides the tensors. */
interface TrainState {
  readonly version: 1;
  readonly step: number;
  readonly config: TrainConfig;
  /** The curriculum in force, as a --curriculum spec. */
  readonly curriculum: string;
  readonly feed: FeedState;
  readonly rngStates: Record<string, RngState>;
  readonly counters: Record<string, number>;
  readonly quarantine: QuarantineState;
  readonly detector: ReturnType<CollapseDetector['state']>;
  readonly tracker: ReturnType<CurriculumTracker['state']>;
  readonly untrained: EvalMetrics | null;
  readonly history: Array<EvalMetrics & { step: number }>;
  readonly metricsBytes: number;
  readonly trainedRecords: number;
  readonly trainLabels: string[] | null;
  readonly seconds: number;
}

/**
 * Trains an embedding model: training feed (read → shuffle → tokenize → class-balanced batches, P×K per curriculum
 * phase) → train step, with diagnostics on every step, the collapse detector, evaluation before and after,
 * checkpoints every `checkpointEvery` steps and at every stop, a deadline and signals that stop it resumably,
 * and the outputs under `out`.
 */
export async function runTrain(input: Partial<TrainConfigInput>, options: TrainRunOptions | Logger = {}): Promise<TrainReport> {
  const opts: TrainRunOptions = 'info' in options ? { logger: options as Logger } : options as TrainRunOptions;
  const startedAt = new Date();
  let saved: TrainState | undefined;
  let tensorsBin: Buffer | undefined;
  let tensorsIndex: TensorsIndex | undefined;
  let cfg: TrainConfig;
  if (opts.resume) {
    const found = await new CheckpointStore(join(opts.resume, 'checkpoints'), 1, opts.logger).loadLatest();
    if (found) {
      saved = JSON.parse((found.files.get('state.json') as Buffer).toString('utf8')) as TrainState;
      tensorsBin = found.files.get('tensors.bin');
      tensorsIndex = JSON.parse((found.files.get('tensors.json') as Buffer).toString('utf8')) as TensorsIndex;
      const ops = Object.fromEntries(OPERATIONAL.filter((k) => (input as Record<string, unknown>)[k] !== undefined).map((k) => [k, (input as Record<string, unknown>)[k]]));
      cfg = parseConfig(TrainConfigSchema, { ...saved.config, ...ops, out: opts.resume }, 'train');
    } else {
      cfg = parseConfig(TrainConfigSchema, { ...input, out: opts.resume }, 'train');
    }
  } else {
    cfg = parseConfig(TrainConfigSchema, input, 'train');
  }
  const deadline = deadlineOf(cfg, startedAt);
  const out = cfg.out;
  mkdirSync(out, { recursive: true });
  const ctx = new RunContext({ seed: cfg.seed, quarantinePath: join(out, 'quarantine.jsonl'), ...(opts.logger ? { logger: opts.logger } : {}) });
  const log = ctx.logger;
  if (saved) {
    ctx.counters.restore(saved.counters);
    ctx.quarantine.resume(saved.quarantine);
    ctx.restoreRngStates(saved.rngStates);
    log.info({ step: saved.step, out }, `resuming from the checkpoint of step ${saved.step}`);
  } else if (opts.resume) {
    log.info({ out }, 'no checkpoint to resume from: starting a new run there');
  }
  const store = new CheckpointStore(join(out, 'checkpoints'), cfg.keepCheckpoints, log);
  const backend = await selectBackend(cfg.backend);
  log.info({ backend: backend.backend, skipped: backend.skipped }, `backend: ${backend.backend}`);
  if (cfg.outputActivation === 'softmax') {
    log.warn('softmax on the embeddings constrains them to the probability simplex and fights the L2 normalisation; the recipe uses none');
  }
  // a pretrained encoder (or a feature cache) brings its own tokenizer and feature size; undefined for bag/transformer
  // (a resumed run was checked when it started; its saved encoder is the resolved default, not what was typed)
  const pretrained = await setupPretrained(cfg, saved ? undefined : input.encoder, log);
  if (pretrained) ctx.defer(() => pretrained.close());
  const dataCfg: TrainConfig = pretrained ? { ...cfg, ...pretrained.data } : cfg;
  const tokenizer = pretrained ? undefined : await loadTokenizer(cfg.tokenizer ?? defaultTokenizerDir);
  const evalInputs = cfg.eval ?? (cfg.inputs.length === 1 && cfg.inputs[0] === defaultTrainCorpus ? [defaultEvalCorpus] : []);
  // eval records are held out, read once; their quarantine goes with the training run's file and counts
  const evalCtx = new RunContext({ seed: cfg.seed, logger: log, quarantinePath: join(out, 'quarantine-eval.jsonl') });
  let evalDocs: TokenizedDoc[] = [];
  try {
    evalDocs = evalInputs.length > 0 ? await loadEvalDocs(evalCtx, dataCfg, evalInputs, await pretrained?.extrasFor(evalInputs)) : [];
  } finally {
    await evalCtx.close();
  }
  const evalLabels = new Set(evalDocs.map((d) => d.label));

  // the number of classes sizes the default curriculum; a stream cannot know it up front, so the eval set (or P) stands in
  const classesGuess = evalLabels.size > 0 ? evalLabels.size : cfg.classes * 4;
  // a resumed run keeps its curriculum even when --steps (which scales the default one) changes
  const curriculum = saved ? parseCurriculum(saved.curriculum) : curriculumOf(cfg, classesGuess);
  const tracker = new CurriculumTracker(curriculum);
  const schedule = curriculum.phases.map((p) => `${p.fromStep}:${p.classesPerBatch}x${p.samplesPerClass}`).join(',');
  log.info({ curriculum: curriculum.spec }, 'curriculum');

  const { model, trainer } = buildModelAndTrainer(cfg, tokenizer?.vocabSize ?? 1, ctx, { pooling: cfg.pooling, ...pretrained?.model });
  // a pretrained encoder on text encodes each batch before its step (a feature cache needs none)
  const liveEncoder = pretrained && !pretrained.cache ? (await pretrained.extrasFor(cfg.inputs)).encoder : undefined;
  const detector = new CollapseDetector({ margin: cfg.margin, epsilon: cfg.collapseEpsilon, minSpread: cfg.collapseMinSpread, window: cfg.collapseWindow });
  if (saved && tensorsBin && tensorsIndex) {
    await restoreTrainingTensors(model, trainer, tensorsBin, tensorsIndex);
    tracker.restore(saved.tracker);
    detector.restore(saved.detector);
  }

  const untrained = saved ? saved.untrained : evalDocs.length > 0 ? evaluateModel(model, evalDocs) : null;
  if (untrained && !saved) log.info(untrained, 'untrained model');
  const history: Array<EvalMetrics & { step: number }> = saved ? [...saved.history] : [];
  const metricsPath = join(out, 'metrics.jsonl');
  let metricsBytes = 0;
  if (saved) {
    // lines of steps after the checkpoint (a run killed later) are written again by this run
    if (existsSync(metricsPath)) truncateSync(metricsPath, saved.metricsBytes);
    else writeFileSync(metricsPath, '');
    metricsBytes = saved.metricsBytes;
  } else {
    writeFileSync(metricsPath, '');
  }

  const trainLabels = new Set<string>(saved?.trainLabels ?? []);
  let labelsChecked = evalLabels.size === 0 || cfg.evalUnseenLabels || (saved !== undefined && saved.trainLabels === null);
  const checkLabels = () => {
    if (labelsChecked) return;
    labelsChecked = true;
    if (![...evalLabels].some((l) => trainLabels.has(l))) {
      throw new ConfigError('eval', `none of the ${evalLabels.size} labels in ${evalInputs.join(', ')} appears in the training data (e.g. "${[...evalLabels][0]}"); check --eval and --label-field, or pass --eval-unseen-labels to evaluate on held-out classes`);
    }
  };
  const feed = await TrainingFeed.open(ctx, {
    data: dataCfg,
    balance: { schedule, overflowEntries: cfg.overflowEntries, ...(cfg.poolCapacity ? { poolCapacity: cfg.poolCapacity } : {}) },
  }, saved?.feed);
  ctx.defer(() => feed.close());

  const reporter = cfg.report ? new ReportRefresher(out, log) : undefined;
  const recorder = cfg.record ? new BatchRecorder(cfg.record, { config: cfg, curriculum: curriculum.spec }) : undefined;
  if (recorder && saved) recorder.resumeAt(saved.step);

  const t0 = performance.now();
  const priorSeconds = saved?.seconds ?? 0;
  const firstStep = saved?.step ?? 0;
  let trainedRecords = saved?.trainedRecords ?? 0;
  let step = firstStep;
  let status: TrainReport['status'] = 'done';
  let stopSignal: string | undefined;
  let lastCheckpoint = saved ? step : -1;
  let lastEpoch = saved?.feed.epoch ?? 0;
  let loopSeconds = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // a second signal does not wait for the step
    if (stopSignal) process.exit(130);
    stopSignal = sig;
    log.warn({ signal: sig, step }, `${sig}: finishing the current step, then writing a checkpoint (send it again to stop at once)`);
  };
  if (opts.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  /** The feed's next batch, with its features when a pretrained encoder runs live. */
  const nextBatch = async (): Promise<Batch> => {
    const b = await feed.next();
    if (liveEncoder) {
      const f = await liveEncoder.encode(b.docs.map((d) => d.ids));
      b.docs.forEach((d, i) => { d.features = f.slice(i * liveEncoder.dim, (i + 1) * liveEncoder.dim); });
    }
    return b;
  };
  let prefetched: Promise<Batch> | undefined;
  const writeCheckpoint = async () => {
    // a batch encoded ahead goes back to the feed: the checkpoint's position is the trained steps'
    if (prefetched) feed.putBack(await prefetched);
    prefetched = undefined;
    // the recording's shards end where checkpoints are, so a resume continues it without gaps or repeats
    await recorder?.seal();
    await ctx.quarantine.flush();
    const tensors = await encodeTrainingTensors(model, trainer);
    const state: TrainState = {
      version: 1, step, config: cfg, curriculum: curriculum.spec, feed: feed.snapshot(), rngStates: ctx.rngStates(), counters: ctx.counters.snapshot(),
      quarantine: ctx.quarantine.state(), detector: detector.state(), tracker: tracker.state(), untrained, history, metricsBytes,
      trainedRecords, trainLabels: labelsChecked ? null : [...trainLabels], seconds: priorSeconds + (performance.now() - t0) / 1000,
    };
    const dir = await store.write(step, new Map<string, Buffer | string>([
      ['state.json', JSON.stringify(state)], ['tensors.bin', tensors.data], ['tensors.json', JSON.stringify(tensors.index)],
    ]));
    lastCheckpoint = step;
    log.debug({ step, dir }, 'checkpoint written');
    reporter?.refresh();
  };
  const stopProgress = cfg.progress
    ? startStepProgress(cfg.steps, () => {
      const b = feed.clock.busiest();
      return { step, detail: `| epoch ${feed.currentEpoch} | ${ctx.counters.get('read.records')} records read | busiest: ${b.name} ${Math.round(b.share * 100)}%` };
    })
    : () => {};
  try {
    try {
      while (step < cfg.steps) {
        const why = stopSignal ?? (Date.now() >= deadline ? 'deadline reached' : opts.shouldStop?.(step) ? 'asked to stop' : undefined);
        if (why) {
          status = 'resumable';
          log.warn({ step, reason: why }, `stopping at step ${step} (${why}); continue with --resume ${out}`);
          break;
        }
        const batch: Batch = prefetched ? await prefetched : await nextBatch();
        prefetched = undefined;
        // the next batch is encoded on the encoder's thread while this one trains (one batch ahead)
        if (liveEncoder && step + 1 < cfg.steps) {
          prefetched = nextBatch();
          // observed here too, so a run that fails before awaiting it does not end on an unhandled rejection
          prefetched.catch(() => undefined);
        }
        // the first batch of a new epoch: the whole previous epoch has been trained on
        if (batch.epoch > lastEpoch) {
          checkLabels();
          lastEpoch = batch.epoch;
        }
        for (const l of batch.labels) trainLabels.add(l);
        const phase = tracker.phaseAt(step);
        const res = trainer.step({ ...batch, step }, phase.miner);
        feed.clock.add(TRAIN_STEP, res.ms, 1);
        trainedRecords += batch.docs.length;
        await recorder?.write({ step, phase: phase.index, miner: phase.miner, batch, loss: res.loss, hardestLoss: res.hardestLoss });
        if (!Number.isFinite(res.loss)) throw new FatalError(`step ${step}: the loss is ${res.loss}; lower the learning rate (--lr ${cfg.lr})`);
        const fired = detector.observe(step, res.hardestLoss, res.spread);
        tracker.observe(step, res.activeFraction);
        if (fired) {
          log.warn({ step, hardestLoss: res.hardestLoss, spread: res.spread }, COLLAPSE_ADVICE);
        }
        if (step % cfg.logEvery === 0 || fired || step === cfg.steps - 1) {
          const line: MetricsLine = { ...res, step, phase: phase.index, collapse: detector.looksCollapsed(res.hardestLoss, res.spread), recordsSeen: ctx.counters.get('read.records'), stages: feed.clock.snapshot() };
          const text = `${JSON.stringify(line)}\n`;
          appendFileSync(metricsPath, text);
          metricsBytes += Buffer.byteLength(text);
        }
        step++;
        if (cfg.evalEvery > 0 && step % cfg.evalEvery === 0 && step < cfg.steps && evalDocs.length > 0) {
          checkLabels();
          history.push({ step, ...evaluateModel(model, evalDocs) });
        }
        if (fired && cfg.stopOnCollapse) {
          status = 'collapsed';
          break;
        }
        if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 && step < cfg.steps) await writeCheckpoint();
      }
      // every stop leaves a checkpoint to resume or replay from
      loopSeconds = (performance.now() - t0) / 1000;
      if (step !== lastCheckpoint) await writeCheckpoint();
      // overflow summarised per class but not written yet: into the quarantine file and counts (the checkpoint
      // still has it pending, so a resume writes it once)
      feed.balancer.flushOverflow();
    } finally {
      stopProgress();
      if (opts.handleSignals) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
  } catch (e) {
    await reporter?.close();
    throw e;
  } finally {
    // open shards, worker pools and the quarantine file
    await ctx.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (status === 'done') checkLabels();
  const final = evalDocs.length > 0 ? evaluateModel(model, evalDocs) : null;
  if (final && history.at(-1)?.step !== step) history.push({ step, ...final });
  await model.save(join(out, 'model'));

  const read = ctx.counters.get('read.records');
  const quarantined = ctx.quarantine.count();
  const exitCode = status === 'collapsed' ? ExitCode.collapse : rejectRateExitCode(quarantined, read, cfg.maxRejectRate);
  const bal = feed.balancer.stats();
  const report: TrainReport = {
    status,
    exitCode,
    out,
    steps: step,
    stepsTotal: cfg.steps,
    seconds: Math.round(seconds * 100) / 100,
    // the training loop's rate (with its periodic checkpoints), not counting the final checkpoint and evaluation
    stepsPerSec: Math.round(((step - firstStep) / Math.max(loopSeconds || seconds, 1e-9)) * 10) / 10,
    backend,
    curriculum: curriculum.spec,
    collapse: { fired: detector.fired !== undefined, atStep: detector.fired ?? null },
    untrained,
    final,
    // read + reused = trained + quarantined + carried duplicates + what was still waiting (shuffle window, pools,
    // batches formed but not trained) when training stopped
    records: {
      read,
      trained: trainedRecords,
      quarantined,
      reused: bal.reused,
      carriedDuplicates: bal.carriedDuplicates,
      waitingAtStop: read + bal.reused - trainedRecords - quarantined - bal.carriedDuplicates,
      epochsStarted: feed.currentEpoch + 1,
      bytesPerEpoch: feed.totalBytes,
      evalRecords: evalDocs.length,
      evalQuarantined: evalCtx.quarantine.count(),
    },
    quarantineByReason: ctx.quarantine.counts(),
    peakRssMb: peakRssMb(),
  };
  writeFileSync(join(out, 'eval.json'), JSON.stringify({ ...(final ?? {}), untrained, history }, null, 2));
  writeFileSync(join(out, 'run.json'), JSON.stringify({ ...report, resumedFromStep: saved ? firstStep : null, config: cfg, versions: packageVersions(), tfMemory: tf.memory().numTensors }, null, 2));
  // the report of the whole run, now that run.json and eval.json are there
  await reporter?.finish();
  trainer.dispose();
  model.dispose();
  return report;
}
