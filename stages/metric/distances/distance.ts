import type { FloatArray, Matrix } from '../matrix.js';

/**
 * A B x B matrix of distances or similarities between the rows of one batch.
 * Miners and losses read it only through `far` and `gap`, so nothing else branches on the metric.
 */
export interface DistanceMatrix {
  /** Batch size B. */
  readonly size: number;
  /** True when the values are similarities (larger = closer), as with cosine. */
  readonly isSimilarity: boolean;
  /**
   * Row-major B x B values that grow with distance: the distance itself, or the negated similarity.
   * Miners compare these, so "nearest" is always the smallest `far`.
   */
  readonly far: FloatArray;
  /** The distance or similarity between rows i and j, as the metric defines it. */
  value(i: number, j: number): number;
  /** How much farther n is from a than p is: d(a,n) - d(a,p), or s(a,p) - s(a,n) for similarities (PML's t). */
  gap(a: number, p: number, n: number): number;
}

/** A metric: turns (possibly normalised) embeddings into a DistanceMatrix and back-propagates through it. */
export interface Distance {
  /** Registry name, e.g. `euclidean`, `cosine`. */
  readonly name: string;
  /** True when the matrix holds similarities. */
  readonly isSimilarity: boolean;
  /**
   * The B x B matrix of the rows of `x`. `gram`, when given, is x xᵀ (B x B, row-major) computed elsewhere
   * (e.g. by tf.matMul on the wasm backend); otherwise the matrix is computed directly from differences.
   */
  matrix(x: Matrix, gram?: ArrayLike<number>): DistanceMatrix;
  /** The `far` value (distance, or negated similarity) between row `i` of `x` and row `j` of `y`. */
  farBetween(x: Matrix, i: number, y: Matrix, j: number): number;
  /** Adds to `dx` (B x D) the gradient of sum_k pairs.w[k] * far(pairs.i[k], pairs.j[k]) with respect to `x`. */
  backward(x: Matrix, d: DistanceMatrix, pairs: PairList, dx: FloatArray): void;
}

/** Builds a DistanceMatrix over a `far` array (distances: far = value; similarities: far = -value). */
export function makeDistanceMatrix(size: number, far: FloatArray, isSimilarity: boolean): DistanceMatrix {
  return {
    size,
    isSimilarity,
    far,
    value: isSimilarity ? (i, j) => -(far[i * size + j] as number) : (i, j) => far[i * size + j] as number,
    gap: (a, p, n) => (far[a * size + n] as number) - (far[a * size + p] as number),
  };
}

/** Weighted pairs (i, j, w): dLoss/d far(i, j) = sum of the w of its entries. The input of Distance.backward. */
export interface PairList {
  readonly i: Int32Array;
  readonly j: Int32Array;
  readonly w: Float64Array;
}

/**
 * The pairs a triplet loss touches: far(a, n) gets +g and far(a, p) gets -g for each triplet with dLoss/dgap = g.
 * Few triplets: 2 entries per triplet, O(T). Many triplets (batch-all): merged through a dense B x B accumulator so
 * back-propagation costs at most O(B² x D).
 */
export function pairsFromTriplets(size: number, a: Int32Array, p: Int32Array, n: Int32Array, g: Float64Array): PairList {
  const t = a.length;
  if (2 * t <= size * size) {
    const i = new Int32Array(2 * t), j = new Int32Array(2 * t), w = new Float64Array(2 * t);
    for (let k = 0; k < t; k++) {
      const gk = g[k] as number;
      i[2 * k] = a[k] as number; j[2 * k] = n[k] as number; w[2 * k] = gk;
      i[2 * k + 1] = a[k] as number; j[2 * k + 1] = p[k] as number; w[2 * k + 1] = -gk;
    }
    return { i, j, w };
  }
  const acc = new Float64Array(size * size);
  for (let k = 0; k < t; k++) {
    const gk = g[k] as number;
    const row = (a[k] as number) * size;
    acc[row + (n[k] as number)] = (acc[row + (n[k] as number)] as number) + gk;
    acc[row + (p[k] as number)] = (acc[row + (p[k] as number)] as number) - gk;
  }
  let count = 0;
  for (let k = 0; k < acc.length; k++) if (acc[k] !== 0) count++;
  const i = new Int32Array(count), j = new Int32Array(count), w = new Float64Array(count);
  let c = 0;
  for (let k = 0; k < acc.length; k++) {
    const v = acc[k] as number;
    if (v === 0) continue;
    i[c] = Math.floor(k / size); j[c] = k % size; w[c] = v; c++;
  }
  return { i, j, w };
}
