import { allocLike, type FloatArray, type Matrix } from '../matrix.js';
import { makeDistanceMatrix, type Distance, type DistanceMatrix, type PairList } from './distance.js';

/**
 * Cosine similarity x_i . x_j of L2-normalised rows (PML CosineSimilarity: a similarity, larger = closer).
 * The caller normalises (the loss forces `normalize` on for cosine); the matrix holds similarities.
 */
export function cosine(): Distance {
  return {
    name: 'cosine',
    isSimilarity: true,
    matrix: (x, gram) => cosineMatrix(x, gram),
    farBetween: (x, i, y, j) => {
      const c = x.cols;
      let s = 0;
      for (let k = 0; k < c; k++) s += (x.data[i * c + k] as number) * (y.data[j * c + k] as number);
      return -s;
    },
    backward: cosineBackward,
  };
}

function cosineMatrix(x: Matrix, gram?: ArrayLike<number>): DistanceMatrix {
  const { rows: b, cols, data } = x;
  const far = allocLike(data, b * b);
  for (let i = 0; i < b; i++) {
    const oi = i * cols;
    for (let j = i; j < b; j++) {
      let s: number;
      if (gram) s = gram[i * b + j] as number;
      else {
        const oj = j * cols;
        s = 0;
        for (let k = 0; k < cols; k++) s += (data[oi + k] as number) * (data[oj + k] as number);
      }
      far[i * b + j] = -s;
      far[j * b + i] = -s;
    }
  }
  return makeDistanceMatrix(b, far, true);
}

function cosineBackward(x: Matrix, _d: DistanceMatrix, pairs: PairList, dx: FloatArray): void {
  const { cols, data } = x;
  const { i: pi, j: pj, w } = pairs;
  for (let e = 0; e < w.length; e++) {
    // far = -s, so dL/ds = -dL/dfar
    const g = -(w[e] as number);
    if (g === 0) continue;
    const i = pi[e] as number;
    const j = pj[e] as number;
    const oi = i * cols;
    const oj = j * cols;
    for (let t = 0; t < cols; t++) {
      const xi = data[oi + t] as number;
      const xj = data[oj + t] as number;
      dx[oi + t] = (dx[oi + t] as number) + g * xj;
      dx[oj + t] = (dx[oj + t] as number) + g * xi;
    }
  }
}
