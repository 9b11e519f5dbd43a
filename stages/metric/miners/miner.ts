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

/** Index (first among ties) of the smallest value in row `a` of the whole matrix (the diagonal included). */
export function rowArgMin(far: ArrayLike<number>, size: number, a: number): number {
  const row = a * size;
  let best = 0;
  let bv = far[row] as number;
  for (let j = 1; j < size; j++) {
    const v = far[row + j] as number;
    if (v < bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/**
 * TF-Addons / ST `_masked_minimum` over row `a`: min_j((far_j - M) * mask_j) + M with M the row maximum and
 * mask_j = (j is a negative and far_j > threshold). Returns the index the gradient flows to: the first argmin when
 * it is masked, else (every masked value equals M) the row's argmax. -1 when nothing is masked.
 */
export function tfMaskedNearestBeyond(far: ArrayLike<number>, size: number, a: number, labels: ArrayLike<number>, threshold: number): number {
  const row = a * size;
  const la = labels[a];
  const mIdx = rowArgMax(far, size, a);
  const m = far[row + mIdx] as number;
  let any = false;
  let best = -1;
  let bv = Infinity;
  let bestMasked = false;
  for (let j = 0; j < size; j++) {
    const d = far[row + j] as number;
    const masked = labels[j] !== la && d > threshold;
    if (masked) any = true;
    const v = masked ? d - m : 0;
    if (v < bv) {
      bv = v;
      best = j;
      bestMasked = masked;
    }
  }
  if (!any) return -1;
  return bestMasked ? best : mIdx;
}

/**
 * TF-Addons / ST `_masked_maximum` over the negatives of row `a`: max_j((far_j - m) * neg_j) + m with m the row
 * minimum. Returns the gradient's index: the first argmax when it is a negative, else the row's argmin (which is
 * also the answer, d_an = row minimum, for an anchor without negatives).
 */
export function tfMaskedFarthestNegative(far: ArrayLike<number>, size: number, a: number, labels: ArrayLike<number>): number {
  const row = a * size;
  const la = labels[a];
  const mIdx = rowArgMin(far, size, a);
  const m = far[row + mIdx] as number;
  let best = -1;
  let bv = -Infinity;
  let bestMasked = false;
  for (let j = 0; j < size; j++) {
    const masked = labels[j] !== la;
    const v = masked ? (far[row + j] as number) - m : 0;
    if (v > bv) {
      bv = v;
      best = j;
      bestMasked = masked;
    }
  }
  return bestMasked ? best : mIdx;
}

/**
 * ST BatchHardTripletLoss's hardest negative: min_j(far_j + M * (1 - neg_j)) with M the row maximum. Returns the
 * gradient's index: the first argmin when it is a negative, else (no negative, or a tie at M) the row's argmax.
 */
export function tfMaskedNearestNegative(far: ArrayLike<number>, size: number, a: number, labels: ArrayLike<number>): number {
  const row = a * size;
  const la = labels[a];
  const mIdx = rowArgMax(far, size, a);
  const m = far[row + mIdx] as number;
  let best = -1;
  let bv = Infinity;
  let bestMasked = false;
  for (let j = 0; j < size; j++) {
    const masked = labels[j] !== la;
    const d = far[row + j] as number;
    const v = masked ? d : d + m;
    if (v < bv) {
      bv = v;
      best = j;
      bestMasked = masked;
    }
  }
  return bestMasked ? best : mIdx;
}
