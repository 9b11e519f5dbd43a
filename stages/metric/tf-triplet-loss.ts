import * as tf from '@tensorflow/tfjs';
import type { TripletLossOptionsInput } from '../../schemas/triplets.js';
import type { Matrix } from './matrix.js';
import { tripletLoss, type TripletLossDeps, type TripletLossFn, type TripletLossResult } from './triplet-loss.js';

/** Options of the tfjs triplet loss, besides the TripletLossOptions. */
export interface TfTripletLossOptions {
  /**
   * Compute x xᵀ with tf.matMul on the active backend (wasm: XNNPACK) instead of the typed-array loop. Default true;
   * the matrix is then float32 (tfjs has no float64).
   */
  readonly useMatMul?: boolean;
}

/** A triplet loss on tfjs tensors with an analytic gradient. */
export interface TfTripletLoss {
  /** The typed-array loss it wraps. */
  readonly core: TripletLossFn;
  /**
   * The scalar loss of `embeddings` (B x D, float32) with a custom gradient d loss / d embeddings, for
   * `optimizer.minimize` / `tf.grad`. Mining reads the distances once; no gradient flows through it.
   */
  loss(embeddings: tf.Tensor2D, labels: ArrayLike<number>): tf.Scalar;
  /** The full result (triplets, counts, per-triplet losses) of the last `loss` call. */
  readonly last: TripletLossResult | undefined;
}

/** The gram matrix x xᵀ of a typed-array batch, computed by tf.matMul on the active backend; no tensor survives. */
export function tfGram(x: Matrix): Float32Array {
  // manual disposal, not tf.tidy: dataSync inside tidy measured ~40x slower on the wasm backend (tfjs 4.22)
  const t = tf.tensor2d(x.data instanceof Float32Array ? x.data : Float32Array.from(x.data), [x.rows, x.cols]);
  // an explicit transpose: the wasm backend's matMul with transposeB is ~10x slower than without (measured)
  const tt = tf.transpose(t);
  const g = tf.matMul(t, tt);
  try {
    return g.dataSync() as Float32Array;
  } finally {
    tf.dispose([t, tt, g]);
  }
}

/**
 * Wraps tripletLoss() for training: tf.customGrad around the typed-array core (same mining, same analytic gradient),
 * so a step costs one download of the embeddings, one matMul and one upload of the gradient.
 * Usage: `const tl = tfTripletLoss({ miner: { name: 'batch-hard' } }); optimizer.minimize(() => tl.loss(model.apply(x), labels));`
 */
export function tfTripletLoss(
  options: TripletLossOptionsInput = {},
  deps: TripletLossDeps = {},
  { useMatMul = true }: TfTripletLossOptions = {},
): TfTripletLoss {
  const core = tripletLoss(options, deps);
  let last: TripletLossResult | undefined;
  let labelsNow: ArrayLike<number> = [];
  const f = tf.customGrad(((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = inputs[0] as tf.Tensor;
    const [rows, cols] = x.shape as [number, number];
    const data = x.dataSync() as Float32Array;
    const r = core.compute({ data, rows, cols }, labelsNow, { grad: true, gram: useMatMul ? tfGram : undefined });
    last = r;
    const grad = r.grad as Float32Array;
    return {
      value: tf.scalar(r.loss),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.mul(dy as tf.Tensor, tf.tensor2d(grad, [rows, cols])),
    };
  }) as Parameters<typeof tf.customGrad<tf.Scalar>>[0]);
  return {
    core,
    get last() {
      return last;
    },
    loss(embeddings, labels) {
      if (embeddings.rank !== 2) throw new Error(`triplet loss: embeddings must be a 2-D tensor (got rank ${embeddings.rank})`);
      labelsNow = labels;
      return f(embeddings) as tf.Scalar;
    },
  };
}
