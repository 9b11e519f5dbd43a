import {
  TripletLossOptionsSchema,
  type TripletLossOptions,
  type TripletLossOptionsInput,
} from '../../schemas/triplets.js';
import { makeDistance, pairsFromTriplets, type Distance, type DistanceMatrix } from './distances/index.js';
import { makeLoss, type TripletLossFunction } from './losses/index.js';
import { allocLike, checkBatch, l2Normalize, l2NormalizeBackward, type FloatArray, type Matrix } from './matrix.js';
import { makeMiner, type Miner } from './miners/index.js';
import { makeReducer, type Reducer } from './reducers/index.js';
import type { Triplets } from './triplets.js';

/** One batch's triplet loss: the value, its gradient, and what produced it. */
export interface TripletLossResult {
  /** The reduced loss; 0 for a batch without usable triplets (NaN only with `emptyBatch: 'nan'`). */
  readonly loss: number;
  /** d loss / d raw embeddings (B x D, same precision as the input), when requested. */
  readonly grad: FloatArray | undefined;
  /** The mined triplets. */
  readonly triplets: Triplets;
  /** Per-triplet losses, in triplet order. */
  readonly losses: Float64Array;
  /** Number of triplets with a loss > 0. */
  readonly numNonzero: number;
  /** The B x B matrix the miner read (of the normalised embeddings when `normalize`). */
  readonly distances: DistanceMatrix;
  /** The miner's counters plus `empty_batch` (1 when nothing was left to average). */
  readonly counts: Readonly<Record<string, number>>;
}

/** Per-call inputs of a triplet loss besides the batch. */
export interface TripletLossCallOptions {
  /** Compute the gradient (default true). */
  readonly grad?: boolean;
  /**
   * Computes x xᵀ (B x B, row-major) of the (normalised) batch, e.g. with tf.matMul on the wasm backend. Without it,
   * distances are computed from row differences in the precision of the input.
   */
  readonly gram?: (x: Matrix) => ArrayLike<number>;
}

/** A configured triplet loss: distance, miner, per-triplet loss and reducer. */
export interface TripletLossFn {
  /** The resolved options (defaults filled in). */
  readonly options: TripletLossOptions;
  readonly distance: Distance;
  readonly miner: Miner;
  readonly lossFunction: TripletLossFunction;
  readonly reducer: Reducer;
  /** Loss (and gradient) of one batch; throws on NaN/Inf embeddings, < 2 rows, or labels that do not fit. */
  compute(x: Matrix, labels: ArrayLike<unknown>, call?: TripletLossCallOptions): TripletLossResult;
}

/** Dependencies of a triplet loss. */
export interface TripletLossDeps {
  /** Uniform [0, 1) generator for the `random` miner. */
  readonly rng?: () => number;
}

/**
 * Triplet loss on typed arrays (FaceNet, Schroff et al. 2015; Hermans et al. 2017): optional L2 normalisation,
 * distance matrix once, mining on the matrix, per-triplet loss, reduction, and the analytic gradient back to the raw
 * embeddings. Defaults: L2-normalised, squared Euclidean, α = 0.2, semi-hard miner with hardest fallback,
 * avg-non-zero reducer.
 */
export function tripletLoss(options: TripletLossOptionsInput = {}, deps: TripletLossDeps = {}): TripletLossFn {
  const parsed = TripletLossOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`triplet loss options: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const opts = parsed.data;
  const distance = makeDistance(opts.distance, opts.squared);
  const miner = makeMiner(opts.miner, { margin: opts.margin, rng: deps.rng });
  const lossFunction = makeLoss(opts.loss, opts.margin, opts.hingeGradient);
  const reducer = makeReducer(opts.reducer, opts.emptyBatch);
  // cosine similarity is defined on unit vectors
  const normalize = opts.normalize || opts.distance === 'cosine';
  return {
    options: opts,
    distance,
    miner,
    lossFunction,
    reducer,
    compute(x, labels, call = {}) {
      const ids = checkBatch(x, labels);
      const wantGrad = call.grad ?? true;
      const norm = normalize ? l2Normalize(x) : undefined;
      const y = norm ? norm.y : x;
      const d = distance.matrix(y, call.gram?.(y));
      const triplets = miner.mine(d, ids);
      const t = triplets.anchor.length;
      const losses = new Float64Array(t);
      const gaps = new Float64Array(t);
      let numNonzero = 0;
      for (let k = 0; k < t; k++) {
        const g = d.gap(triplets.anchor[k] as number, triplets.positive[k] as number, triplets.negative[k] as number);
        gaps[k] = g;
        const l = lossFunction.value(g);
        losses[k] = l;
        if (l > 0) numNonzero++;
      }
      const { loss, weights } = reducer.reduce(losses);
      const counts: Record<string, number> = { ...triplets.counts };
      if (t === 0 || (reducer.name === 'avg-non-zero' && numNonzero === 0)) counts.empty_batch = 1;
      let grad: FloatArray | undefined;
      if (wantGrad) {
        grad = allocLike(x.data, x.data.length);
        if (Number.isNaN(loss)) grad.fill(NaN);
        else if (t > 0) {
          const dGap = new Float64Array(t);
          for (let k = 0; k < t; k++) {
            const w = weights[k] as number;
            dGap[k] = w === 0 ? 0 : w * lossFunction.derivative(gaps[k] as number);
          }
          const pairs = pairsFromTriplets(d.size, triplets.anchor, triplets.positive, triplets.negative, dGap);
          const dy = new Float64Array(x.data.length);
          distance.backward(y, d, pairs, dy);
          if (norm) l2NormalizeBackward(norm.y, norm.norms, dy);
          grad.set(dy);
        }
      }
      return { loss, grad, triplets, losses, numNonzero, distances: d, counts };
    },
  };
}
