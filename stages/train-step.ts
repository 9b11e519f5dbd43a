import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../pipeline/context.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import type { Batch } from '../schemas/batch.js';
import type { MinerSpec } from '../schemas/triplets.js';
import { batchDiagnostics, type BatchDiagnostics } from './metric/diagnostics.js';
import { TfDenseAdam } from './metric/model/dense-adam.js';
import type { EmbeddingModel, EncoderInput } from './metric/model/embedding-model.js';
import { HostHead, hostGram } from './metric/model/host-head.js';
import { TokenTable } from './metric/model/token-table.js';
import { tfTripletLoss, type TfTripletLoss } from './metric/tf-triplet-loss.js';
import type { TripletLossResult } from './metric/triplet-loss.js';

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
  /**
   * Train on the host path: the head's forward and backward passes, the loss and Adam in WebAssembly/typed arrays
   * (host-head.ts), no tf kernel at all; the tf variables get the new weights after each step
   * (bench/train/README.md). Default: on for a `bag` or `pretrained` model without output activation when the
   * backend is wasm or cpu, which compute on this CPU anyway; off elsewhere (the tf path: tf.variableGrads, Adam as tf
   * kernels). True for a transformer or softmax model is an error.
   */
  readonly hostStep?: boolean;
}

/** Backends on which the host path is the default: their tensors live in this process's memory. */
const HOST_BACKENDS: readonly string[] = ['wasm', 'cpu'];

interface PassResult {
  readonly loss: number;
  readonly r: TripletLossResult;
  readonly gradNorm: number | null;
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
 * on the CPU (lazy Adam on the rows the batch used). On wasm/cpu a bag or pretrained model takes the host path
 * (`hostStep`: the head in WebAssembly, no tf kernel); otherwise tf.variableGrads and Adam as tf kernels.
 */
export class Trainer {
  /** Adam on the dense variables: the host head (weights and moments on the host) or moments in tf variables. */
  readonly denseAdam: HostHead | TfDenseAdam;
  /** Whether steps take the host path (see TrainStepOptions.hostStep). */
  readonly hostStep: boolean;
  private readonly losses = new Map<string, TfTripletLoss>();
  private readonly opts: Required<Omit<TrainStepOptions, 'clipNorm' | 'hostStep'>> & { clipNorm?: number };
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
    const { encoder, outputActivation } = model.options;
    // the host path trains the head; a transformer's encoder needs tf's autodiff
    const eligible = encoder !== 'transformer' && outputActivation === 'none';
    if (opts.hostStep === true && !eligible) {
      throw new Error(`train step: hostStep needs the bag or pretrained encoder without an output activation (got encoder ${encoder}, outputActivation ${outputActivation}); leave hostStep unset to choose the path by model and backend`);
    }
    this.hostStep = opts.hostStep ?? (eligible && HOST_BACKENDS.includes(tf.getBackend()));
    const adam = { learningRate: this.opts.learningRate };
    this.denseAdam = this.hostStep
      ? new HostHead(model.headLayers(), adam, this.opts.weightDecay)
      : new TfDenseAdam(model.variables, adam, this.opts.weightDecay);
  }

  /** One optimisation step on `batch` with `miner`. */
  step(batch: Batch, miner: MinerSpec): StepResult {
    const t0 = performance.now();
    const tl = this.lossFor(miner);
    const input = this.model.inputOf(batch.docs);
    const labels = batch.classIndex;
    const { loss, r, gradNorm } = this.hostStep ? this.hostPass(tl, input, labels) : this.tfPass(tl, input, labels);
    const diag = batchDiagnostics(r.distances, labels, this.opts.margin);
    const numTriplets = r.triplets.anchor.length;
    return {
      step: batch.step,
      epoch: batch.epoch,
      miner: miner.name,
      batchSize: batch.docs.length,
      loss,
      activeFraction: numTriplets > 0 ? r.numNonzero / numTriplets : 0,
      numTriplets,
      gradNorm,
      ...diag,
      ms: performance.now() - t0,
    };
  }

  /** Frees the optimizer's tensors (the model is its owner's to dispose). */
  dispose(): void {
    this.denseAdam.dispose();
  }

  /** The host path: the head on the host (host-head.ts), the loss on typed arrays; no tf kernel. */
  private hostPass(tl: TfTripletLoss, input: EncoderInput, labels: Int32Array): PassResult {
    const head = this.denseAdam as HostHead;
    const B = input.shape[0];
    const out = head.forward(input.x, B);
    const r = tl.core.compute({ data: out, rows: B, cols: this.model.outputDim }, labels, { grad: true, gram: hostGram });
    // a pretrained encoder's features are frozen: no gradient to them
    const rows = this.model.inputBackward(input, head.backward(r.grad as Float32Array, this.model.options.encoder !== 'pretrained'));
    let scale = 1;
    let gradNorm: number | null = null;
    if (this.opts.clipNorm !== undefined) {
      gradNorm = Math.sqrt(TokenTable.sumSquares(rows) + head.gradSumSquares());
      if (gradNorm > this.opts.clipNorm) scale = this.opts.clipNorm / gradNorm;
    }
    this.model.table.adamStep(rows, { learningRate: this.opts.tokenLearningRate }, scale, this.opts.weightDecay);
    head.applyAdam(scale);
    // float32, as the tf path's loss tensor: metrics read the same on both paths
    return { loss: Math.fround(r.loss), r, gradNorm };
  }

  /** The tf path: tf.variableGrads over the model's forward pass and the loss, Adam as tf kernels. */
  private tfPass(tl: TfTripletLoss, input: EncoderInput, labels: Int32Array): PassResult {
    const x0 = tf.tensor(input.x, input.shape);
    // the encoder input as a variable, so variableGrads also returns its gradient (scattered back to the token rows)
    const x = tf.variable(x0, true, `train-input#${this.tmpId++}`);
    x0.dispose();
    let gradNorm: number | null = null;
    let loss: number;
    try {
      const { value, grads } = tf.variableGrads(() => tl.loss(this.model.forward(x, input, false), labels));
      try {
        loss = value.dataSync()[0] as number;
        const rows = this.model.inputBackward(input, (grads[x.name] as tf.Tensor).dataSync() as Float32Array);
        const dense = new Map<string, tf.Tensor>();
        for (const [k, v] of this.model.variables) if (grads[v.name]) dense.set(k, grads[v.name] as tf.Tensor);
        let scale = 1;
        // the global norm costs a device sync per step: computed only when clipping needs it
        if (this.opts.clipNorm !== undefined) {
          const denseSq = tf.tidy(() => tf.addN([...dense.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0] as number);
          gradNorm = Math.sqrt(denseSq + TokenTable.sumSquares(rows));
          if (gradNorm > this.opts.clipNorm) scale = this.opts.clipNorm / gradNorm;
        }
        this.model.table.adamStep(rows, { learningRate: this.opts.tokenLearningRate }, scale, this.opts.weightDecay);
        (this.denseAdam as TfDenseAdam).apply(dense, scale);
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
    } finally {
      x.dispose();
    }
    const r = tl.last;
    if (!r) throw new Error('train step: the loss did not run');
    return { loss, r, gradNorm };
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
