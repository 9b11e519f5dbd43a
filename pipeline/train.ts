import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from '../schemas/train-config.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import type { Batch } from '../schemas/batch.js';
import { balanceBatches } from '../stages/balance-batches.js';
import { loadTokenizer } from '../stages/adapters/tokenizer.js';
import { EmbeddingModel } from '../stages/metric/model/embedding-model.js';
import { Trainer, type StepResult } from '../stages/train-step.js';
import { selectBackend, type BackendReport } from './backend.js';
import { parseConfig } from './config.js';
import { RunContext } from './context.js';
import { buildDataGraph } from './data-graph.js';
import { ConfigError, FatalError } from './errors.js';
import { ExitCode, rejectRateExitCode } from './exit-codes.js';
import type { Logger } from './logger.js';
import { defaultEvalCorpus, defaultTokenizerDir, defaultTrainCorpus, packageRoot } from './paths.js';
import { peakRssMb, startStepProgress } from './progress.js';
import { pullOne } from './stage.js';
import { CollapseDetector, COLLAPSE_ADVICE } from './training/collapse-detector.js';
import { CurriculumTracker, defaultCurriculum, parseCurriculum, parseMiner, singlePhase, type Curriculum } from './training/curriculum.js';
import { evaluateModel, type EvalMetrics } from './training/evaluate.js';
import { setupPretrained } from './training/pretrained.js';
import type { DataGraphExtras } from './data-graph.js';

/** What `runTrain` returns (and writes as run.json). */
export interface TrainReport {
  readonly status: 'done' | 'collapsed';
  readonly exitCode: number;
  readonly out: string;
  readonly steps: number;
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

/**
 * Default ratio of the token table's learning rate to `lr`. The table starts at N(0, 1) (as torch's nn.Embedding)
 * and Adam moves a weight by about its learning rate per step, so at `lr` the rows hardly leave their random start
 * in a few thousand steps; ×30 took the default curriculum on banking77 (3,000 steps) from MAP@R 0.639 to 0.747
 * (docs/experiment.md).
 */
export const TOKEN_LR_FACTOR = 30;

/** The token table's learning rate: `tokenLr`, or `lr` × TOKEN_LR_FACTOR. */
export function tokenLearningRate(cfg: Pick<TrainConfig, 'lr' | 'tokenLr'>): number {
  return cfg.tokenLr ?? cfg.lr * TOKEN_LR_FACTOR;
}

/** The curriculum a config asks for. */
export function curriculumOf(cfg: TrainConfig, classes: number): Curriculum {
  if (cfg.curriculum) return parseCurriculum(cfg.curriculum);
  if (cfg.miner) return singlePhase(parseMiner(cfg.miner), Math.min(cfg.classes, Math.max(2, classes)), cfg.perClass);
  return defaultCurriculum(cfg.steps, classes, cfg.classes, cfg.perClass);
}

/**
 * Trains an embedding model: data graph → class-balanced batches (P×K per curriculum phase) → train step, with
 * diagnostics on every step, the collapse detector, evaluation before and after, and the outputs under `out`.
 */
export async function runTrain(input: TrainConfigInput, logger?: Logger): Promise<TrainReport> {
  const cfg = parseConfig(TrainConfigSchema, input, 'train');
  const out = cfg.out;
  mkdirSync(out, { recursive: true });
  const ctx = new RunContext({ seed: cfg.seed, quarantinePath: join(out, 'quarantine.jsonl'), ...(logger ? { logger } : {}) });
  const log = ctx.logger;
  const backend = await selectBackend(cfg.backend);
  log.info({ backend: backend.backend, skipped: backend.skipped }, `backend: ${backend.backend}`);
  if (cfg.outputActivation === 'softmax') {
    log.warn('softmax on the embeddings constrains them to the probability simplex and fights the L2 normalisation; the recipe uses none');
  }
  // a pretrained encoder (or a feature cache) brings its own tokenizer and feature size; undefined for bag/transformer
  const pretrained = await setupPretrained(cfg, input.encoder, log);
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
  const curriculum = curriculumOf(cfg, classesGuess);
  const tracker = new CurriculumTracker(curriculum);
  const schedule = curriculum.phases.map((p) => `${p.fromStep}:${p.classesPerBatch}x${p.samplesPerClass}`).join(',');
  log.info({ curriculum: curriculum.spec }, 'curriculum');

  const model = EmbeddingModel.create({
    encoder: cfg.encoder, vocabSize: tokenizer?.vocabSize ?? 1, embeddingDim: cfg.embeddingDim, head: cfg.head,
    normalize: cfg.normalize, outputActivation: cfg.outputActivation, maxLength: cfg.maxLength, layers: cfg.layers, heads: cfg.heads,
    pooling: cfg.pooling, ...pretrained?.model,
  }, cfg.seed);
  const trainExtras = pretrained ? await pretrained.extrasFor(cfg.inputs) : {};
  const trainer = new Trainer(model, { learningRate: cfg.lr, tokenLearningRate: tokenLearningRate(cfg), weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm, margin: cfg.margin }, () => ctx.rng('miner:random').next());
  const detector = new CollapseDetector({ margin: cfg.margin, epsilon: cfg.collapseEpsilon, minSpread: cfg.collapseMinSpread, window: cfg.collapseWindow });

  const untrained = evalDocs.length > 0 ? evaluateModel(model, evalDocs) : null;
  if (untrained) log.info(untrained, 'untrained model');
  const history: Array<EvalMetrics & { step: number }> = [];
  const metricsPath = join(out, 'metrics.jsonl');
  writeFileSync(metricsPath, '');

  const balance = balanceBatches(ctx, { schedule, atEpochEnd: 'carry', ...(cfg.poolCapacity ? { poolCapacity: cfg.poolCapacity } : {}) });
  const trainLabels = new Set<string>();
  let labelsChecked = evalLabels.size === 0 || cfg.evalUnseenLabels;
  const checkLabels = () => {
    if (labelsChecked) return;
    labelsChecked = true;
    if (![...evalLabels].some((l) => trainLabels.has(l))) {
      throw new ConfigError('eval', `none of the ${evalLabels.size} labels in ${evalInputs.join(', ')} appears in the training data (e.g. "${[...evalLabels][0]}"); check --eval and --label-field, or pass --eval-unseen-labels to evaluate on held-out classes`);
    }
  };

  const t0 = performance.now();
  let trainedRecords = 0;
  let step = 0;
  let epoch = 0;
  let status: TrainReport['status'] = 'done';
  let totalBytes = 0;
  const stopProgress = cfg.progress
    ? startStepProgress(cfg.steps, () => ({ step, detail: `| epoch ${epoch} | ${ctx.counters.get('read.records')} records read` }))
    : () => {};
  try {
    try {
      training: while (step < cfg.steps) {
        const data = await buildDataGraph(ctx, { ...dataCfg, epoch }, trainExtras);
        totalBytes = data.totalBytes;
        const batches = data.graph.stream().through(balance);
        let gotAny = false;
        try {
          for (let r = await pullOne(batches); !r.done; r = await pullOne(batches)) {
            const batch: Batch = r.value;
            gotAny = true;
            for (const l of batch.labels) trainLabels.add(l);
            const phase = tracker.phaseAt(step);
            const res = trainer.step({ ...batch, step }, phase.miner);
            trainedRecords += batch.docs.length;
            if (!Number.isFinite(res.loss)) throw new FatalError(`step ${step}: the loss is ${res.loss}; lower the learning rate (--lr ${cfg.lr})`);
            const fired = detector.observe(step, res.hardestLoss, res.spread);
            tracker.observe(step, res.activeFraction);
            if (fired) {
              log.warn({ step, hardestLoss: res.hardestLoss, spread: res.spread }, COLLAPSE_ADVICE);
            }
            if (step % cfg.logEvery === 0 || fired || step === cfg.steps - 1) {
              const line: MetricsLine = { ...res, step, phase: phase.index, collapse: detector.looksCollapsed(res.hardestLoss, res.spread), recordsSeen: ctx.counters.get('read.records') };
              appendFileSync(metricsPath, `${JSON.stringify(line)}\n`);
            }
            step++;
            if (cfg.evalEvery > 0 && step % cfg.evalEvery === 0 && step < cfg.steps && evalDocs.length > 0) {
              checkLabels();
              history.push({ step, ...evaluateModel(model, evalDocs) });
            }
            if (fired && cfg.stopOnCollapse) {
              status = 'collapsed';
              break training;
            }
            if (step >= cfg.steps) break training;
          }
        } finally {
          batches.destroy();
        }
        checkLabels();
        if (!gotAny) throw new FatalError(`epoch ${epoch} produced no batch: the corpus has too few classes or records for ${curriculum.phases[0]?.classesPerBatch}×${curriculum.phases[0]?.samplesPerClass} batches (see quarantine.jsonl)`);
        epoch++;
      }
    } finally {
      stopProgress();
    }
  } finally {
    // worker pools and open shards of the epoch stopped midway, and the quarantine file
    await ctx.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  checkLabels();
  const final = evalDocs.length > 0 ? evaluateModel(model, evalDocs) : null;
  if (final) history.push({ step, ...final });
  await model.save(join(out, 'model'));

  const read = ctx.counters.get('read.records');
  const quarantined = ctx.quarantine.count();
  const exitCode = status === 'collapsed' ? ExitCode.collapse : rejectRateExitCode(quarantined, read, cfg.maxRejectRate);
  const bal = balance.balancer.stats();
  const report: TrainReport = {
    status,
    exitCode,
    out,
    steps: step,
    seconds: Math.round(seconds * 100) / 100,
    stepsPerSec: Math.round((step / Math.max(seconds, 1e-9)) * 10) / 10,
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
      epochsStarted: bal.epochs,
      bytesPerEpoch: totalBytes,
      evalRecords: evalDocs.length,
      evalQuarantined: evalCtx.quarantine.count(),
    },
    quarantineByReason: ctx.quarantine.counts(),
    peakRssMb: peakRssMb(),
  };
  writeFileSync(join(out, 'eval.json'), JSON.stringify({ ...(final ?? {}), untrained, history }, null, 2));
  writeFileSync(join(out, 'run.json'), JSON.stringify({ ...report, config: cfg, versions: packageVersions(), tfMemory: tf.memory().numTensors }, null, 2));
  model.dispose();
  return report;
}
