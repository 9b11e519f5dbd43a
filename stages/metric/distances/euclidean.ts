import { allocLike, type FloatArray, type Matrix } from '../matrix.js';
import { makeDistanceMatrix, type Distance, type DistanceMatrix, type PairList } from './distance.js';

/** Options of the Euclidean distance. */
export interface EuclideanOptions {
  /** Squared Euclidean distance |x_i - x_j|² (FaceNet's choice) instead of |x_i - x_j|. Default true. */
  readonly squared?: boolean;
}

/**
 * Euclidean distance, squared or not (PML LpDistance(p=2, power=2 or 1); ST `_pairwise_distances(squared)`).
 * Gradient of the plain distance at 0 is 0, as torch.cdist and ST define it.
 */
export function euclidean({ squared = true }: EuclideanOptions = {}): Distance {
  return {
    name: 'euclidean',
    isSimilarity: false,
    matrix: (x, gram) => euclideanMatrix(x, squared, gram),
    farBetween: (x, i, y, j) => {
      const c = x.cols;
      let s = 0;
      for (let k = 0; k < c; k++) {
        const t = (x.data[i * c + k] as number) - (y.data[j * c + k] as number);
        s += t * t;
      }
      return squared ? s : Math.sqrt(s);
    },
    backward: (x, d, pairs, dx) => euclideanBackward(x, d, pairs, dx, squared),
  };
}

function euclideanMatrix(x: Matrix, squared: boolean, gram?: ArrayLike<number>): DistanceMatrix {
  const { rows: b, cols, data } = x;
  const far = allocLike(data, b * b);
  for (let i = 0; i < b; i++) {
    const oi = i * cols;
    for (let j = i + 1; j < b; j++) {
      let s: number;
      if (gram) {
        // |xi|² + |xj|² - 2 xi.xj can dip below 0 by rounding
        s = Math.max(0, (gram[i * b + i] as number) + (gram[j * b + j] as number) - 2 * (gram[i * b + j] as number));
      } else {
        const oj = j * cols;
        s = 0;
        for (let k = 0; k < cols; k++) {
          const t = (data[oi + k] as number) - (data[oj + k] as number);
          s += t * t;
        }
      }
      const v = squared ? s : Math.sqrt(s);
      far[i * b + j] = v;
      far[j * b + i] = v;
    }
  }
  return makeDistanceMatrix(b, far, false);
}

function euclideanBackward(x: Matrix, d: DistanceMatrix, pairs: PairList, dx: FloatArray, squared: boolean): void {
  const { cols, data } = x;
  const b = d.size;
  const far = d.far;
  const { i: pi, j: pj, w } = pairs;
  for (let e = 0; e < w.length; e++) {
    const g = w[e] as number;
    const i = pi[e] as number;
    const j = pj[e] as number;
    if (g === 0 || i === j) continue;
    const k = i * b + j;
    let c: number;
    if (squared) c = 2 * g;
    else {
      const dist = far[k] as number;
      // d|x|/dx is undefined at 0; torch.cdist and ST both use 0 there
      if (dist === 0) continue;
      c = g / dist;
    }
    const oi = i * cols;
    const oj = j * cols;
    for (let t = 0; t < cols; t++) {
      const diff = c * ((data[oi + t] as number) - (data[oj + t] as number));
      dx[oi + t] = (dx[oi + t] as number) + diff;
      dx[oj + t] = (dx[oj + t] as number) - diff;
    }
  }
}
