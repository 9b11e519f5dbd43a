/** A reduced loss and the weight of each per-triplet loss in it (d reduced / d loss_i). */
export interface Reduction {
  readonly loss: number;
  readonly weights: Float64Array;
}

/**
 * What a reducer returns for a batch with no term to average: `zero` (default: loss 0, gradient 0, counted as
 * empty_batch) or `nan` (0/0, as ST BatchSemiHardTripletLoss gives on a batch without positive pairs).
 */
export type EmptyBatch = 'zero' | 'nan';

/** Turns per-triplet losses into one scalar. */
export interface Reducer {
  /** Registry name: `mean`, `avg-non-zero` or `sum`. */
  readonly name: string;
  /** The scalar and the per-triplet weights. */
  reduce(losses: Float64Array): Reduction;
}

/** Sum of an array (plain left-to-right order). */
export function sumOf(xs: Float64Array): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return s;
}
