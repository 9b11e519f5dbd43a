import type { DistanceMatrix } from '../distances/distance.js';
import type { Triplets } from '../triplets.js';

/**
 * Online miner: maps a batch's distance matrix and labels to triplets of batch indices.
 * Reads the matrix only (no gradient flows through mining); counts anchors it drops in `Triplets.counts`.
 */
export interface Miner {
  /** Registry name, e.g. `semi-hard`. */
  readonly name: string;
  /** The triplets mined from matrix `d` (B x B) and `labels` (B numbers; equal number = same class). */
  mine(d: DistanceMatrix, labels: ArrayLike<number>): Triplets;
}

/**
 * What to do with an anchor that lacks a positive or a negative.
 * `drop` (default): leave it out and count it. `keep`: reproduce sentence-transformers / TF-Addons, which keep every
 * anchor: a missing positive becomes the anchor itself (d_ap = 0) and a missing negative a stand-in documented by
 * each miner. Triplets from `keep` are not valid triplets; use it only to reproduce those libraries.
 */
export type IncompleteAnchors = 'drop' | 'keep';

/** Per-anchor scratch lists of positive and negative indices, reused across anchors. */
export class RowSplit {
  readonly positives: Int32Array;
  readonly negatives: Int32Array;
  numPositives = 0;
  numNegatives = 0;

  constructor(size: number) {
    this.positives = new Int32Array(size);
    this.negatives = new Int32Array(size);
  }

  /** Splits row `a` into positives (same label, not a) and negatives (other label). */
  split(labels: ArrayLike<number>, a: number): this {
    const la = labels[a];
    let np = 0, nn = 0;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] === la) {
        if (j !== a) this.positives[np++] = j;
      } else this.negatives[nn++] = j;
    }
    this.numPositives = np;
    this.numNegatives = nn;
    return this;
  }
}

/** Index (first among ties) of the smallest `far[row + j]` over `idx[0..len)`; -1 when len is 0. */
export function argMinOf(far: ArrayLike<number>, row: number, idx: Int32Array, len: number): number {
  let best = -1;
  let bv = Infinity;
  for (let k = 0; k < len; k++) {
    const j = idx[k] as number;
    const v = far[row + j] as number;
    if (best < 0 || v < bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/** Index (first among ties) of the largest `far[row + j]` over `idx[0..len)`; -1 when len is 0. */
export function argMaxOf(far: ArrayLike<number>, row: number, idx: Int32Array, len: number): number {
  let best = -1;
  let bv = -Infinity;
  for (let k = 0; k < len; k++) {
    const j = idx[k] as number;
    const v = far[row + j] as number;
    if (best < 0 || v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/** Index (first among ties) of the smallest `far[row + j]` over `idx` with `far > threshold`; -1 if none. */
export function nearestBeyond(far: ArrayLike<number>, row: number, idx: Int32Array, len: number, threshold: number): number {
  let best = -1;
  let bv = Infinity;
  for (let k = 0; k < len; k++) {
    const j = idx[k] as number;
    const v = far[row + j] as number;
    if (v > threshold && (best < 0 || v < bv)) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/** Index (first among ties) of the largest value in row `a` of the whole matrix (the diagonal included). */
export function rowArgMax(far: ArrayLike<number>, size: number, a: number): number {
  const row = a * size;
  let best = 0;
  let bv = far[row] as number;
  for (let j = 1; j < size; j++) {
    const v = far[row + j] as number;
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}
