import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../pipeline/context.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import type { Batch } from '../schemas/batch.js';
import type { MinerSpec } from '../schemas/triplets.js';
import { batchDiagnostics, type BatchDiagnostics } from './metric/diagnostics.js';
import type { EmbeddingModel } from './metric/model/embedding-model.js';
import { TokenTable } from './metric/model/token-table.js';
import { tfTripletLoss, type TfTripletLoss } from './metric/tf-triplet-loss.js';

/** Optimizer and loss settings of a train step. */
export interface TrainStepOptions {
  /** Adam learning rate of the dense variables (head, transformer). Default 1e-3. */
  readonly learningRate?: number;
  /**
   * Adam learning rate of the token table. Default: `learningRate`. The table starts at N(0, 1) (torch's
   * nn.Embedding) while Adam moves a weight by about the learning rate per step, so at 1e-3 the rows barely move
   * from their random start; a larger rate lets the table learn (see docs/experiment.md).
   */
  readonly tokenLearningRate?: number;
  /** Decoupled weight decay per step, as a fraction of the learning rate (AdamW). Default 0. */
  readonly weightDecay?: number;
  /** Clip the global gradient norm to this. Default: no clipping. */
  readonly clipNorm?: number;
  /** Margin α, in distance units. Default 0.2. */
  readonly margin?: number;
  /** Squared Euclidean distance (default true). */
  readonly squared?: boolean;
}

/** What one train step did. */
export interface StepResult extends BatchDiagnostics {
  readonly step: number;
  readonly epoch: number;
  readonly miner: string;
  readonly batchSize: number;
  /** The training miner's loss (the one optimised). */
  readonly loss: number;
  /** Fraction of the mined triplets with a loss > 0. */
  readonly activeFraction: number;
  readonly numTriplets: number;
  /** Global gradient norm before clipping; null when not clipping (not computed). */
  readonly gradNorm: number | null;
  readonly ms: number;
}

/**
 * Forward → distance → mining → loss → Adam, one batch at a time, without leaking tensors. The token table is updated
 * on the CPU (lazy Adam on the rows the batch used); the dense variables by tf.train.adam.
 */
export class Trainer {
  readonly optimizer: tf.AdamOptimizer;
  private readonly losses = new Map<string, TfTripletLoss>();
  private readonly opts: Required<Omit<TrainStepOptions, 'clipNorm'>> & { clipNorm?: number };
  private tmpId = 0;

  constructor(readonly model: EmbeddingModel, opts: TrainStepOptions = {}, private readonly rng?: () => number) {
    this.opts = {
      learningRate: opts.learningRate ?? 1e-3,
      tokenLearningRate: opts.tokenLearningRate ?? opts.learningRate ?? 1e-3,
      weightDecay: opts.weightDecay ?? 0,
      margin: opts.margin ?? 0.2,
      squared: opts.squared ?? true,
      ...(opts.clipNorm !== undefined ? { clipNorm: opts.clipNorm } : {}),
    };
    this.optimizer = tf.train.adam(this.opts.learningRate);
  }

  /** One optimisation step on `batch` with `miner`. */
  step(batch: Batch, miner: MinerSpec): StepResult {
    const t0 = performance.now();
    const tl = this.lossFor(miner);
    const input = this.model.inputOf(batch.docs);
    const labels = batch.classIndex;
    const x0 = tf.tensor(input.x, input.shape);
    // the encoder input as a variable, so variableGrads also returns its gradient (scattered back to the token rows)
    const x = tf.variable(x0, true, `train-input#${this.tmpId++}`);
    x0.dispose();
    let gradInput: Float32Array;
    let gradNorm: number | null = null;
    let lossValue: number;
    try {
      const { value, grads } = tf.variableGrads(() => tl.loss(this.model.forward(x, input, false), labels));
      try {
        lossValue = value.dataSync()[0] as number;
        gradInput = (grads[x.name] as tf.Tensor).dataSync() as Float32Array;
        const rows = this.model.inputBackward(input, gradInput);
        const dense: tf.NamedTensorMap = {};
        for (const v of this.model.variables.values()) if (grads[v.name]) dense[v.name] = grads[v.name] as tf.Tensor;
        let scale = 1;
        // the global norm costs a device sync per step: computed only when clipping needs it
        if (this.opts.clipNorm !== undefined) {
          const denseSq = tf.tidy(() => tf.addN(Object.values(dense).map((g) => tf.sum(tf.square(g)))).dataSync()[0] as number);
          gradNorm = Math.sqrt(denseSq + TokenTable.sumSquares(rows));
          if (gradNorm > this.opts.clipNorm) scale = this.opts.clipNorm / gradNorm;
        }
        this.model.table.adamStep(rows, { learningRate: this.opts.tokenLearningRate }, scale, this.opts.weightDecay);
        tf.tidy(() => {
          const scaled: tf.NamedTensorMap = {};
          for (const [k, g] of Object.entries(dense)) scaled[k] = scale === 1 ? g : tf.mul(g, scale);
          this.optimizer.applyGradients(scaled as tf.NamedTensorMap as Parameters<tf.AdamOptimizer["applyGradients"]>[0]);
          if (this.opts.weightDecay > 0) {
            for (const v of this.model.variables.values()) v.assign(tf.sub(v, tf.mul(v, this.opts.learningRate * this.opts.weightDecay)));
          }
        });
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
    } finally {
      x.dispose();
    }
    const r = tl.last;
    if (!r) throw new Error('train step: the loss did not run');
    const diag = batchDiagnostics(r.distances, labels, this.opts.margin);
    const numTriplets = r.triplets.anchor.length;
    return {
      step: batch.step,
      epoch: batch.epoch,
      miner: miner.name,
      batchSize: batch.docs.length,
      loss: lossValue,
      activeFraction: numTriplets > 0 ? r.numNonzero / numTriplets : 0,
      numTriplets,
      gradNorm,
      ...diag,
      ms: performance.now() - t0,
    };
  }

  private lossFor(miner: MinerSpec): TfTripletLoss {
    const key = JSON.stringify(miner);
    let tl = this.losses.get(key);
    if (!tl) {
      // the loss does the model's L2 normalisation (on the CPU, with its analytic gradient): fewer tf ops per step
      tl = tfTripletLoss({ miner, margin: this.opts.margin, squared: this.opts.squared, normalize: this.model.options.normalize }, this.rng ? { rng: this.rng } : {});
      this.losses.set(key, tl);
    }
    return tl;
  }
}

/** Batch → StepResult: trains on each batch with the miner `minerAt(step)` picks. Use: `batches.through(trainStep(ctx, trainer, () => spec))`. */
export function trainStep(ctx: RunContext, trainer: Trainer, minerAt: (step: number) => MinerSpec): Stage<Batch, StepResult> {
  const scope = ctx.scope('train-step');
  return named('train-step', (s: Stream<Batch>) => s.map((b) => {
    const r = trainer.step(b, minerAt(b.step));
    scope.count('steps');
    if (r.numTriplets === 0) scope.count('empty_batch');
    return r;
  }));
}
