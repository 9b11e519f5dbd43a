import { TripletBuilder } from '../triplets.js';
import { RowSplit, type Miner } from './miner.js';

/** Which triplets a threshold miner keeps, with t = gap = d_an - d_ap and m = margin. */
export type ThresholdType = 'all' | 'hard' | 'semihard' | 'easy';

/** Options of the threshold miner. */
export interface ThresholdMinerOptions {
  /** `all`: t <= m; `hard`: t <= 0; `semihard`: 0 < t <= m; `easy`: t > m. Default `all`. */
  readonly type?: ThresholdType;
  /** m, in distance units (squared units for squared Euclidean). Default 0.2. */
  readonly margin?: number;
}

/**
 * PML TripletMarginMiner (pytorch-metric-learning 2.x, miners/triplet_margin_miner.py): every valid triplet whose
 * t = d_an - d_ap (s_ap - s_an for similarities) meets the threshold of `type`. Output in (a, p, n) order.
 */
export function thresholdMiner({ type = 'all', margin = 0.2 }: ThresholdMinerOptions = {}): Miner {
  const keep: (t: number) => boolean =
    type === 'all' ? (t) => t <= margin
      : type === 'hard' ? (t) => t <= margin && t <= 0
        : type === 'semihard' ? (t) => t <= margin && t > 0
          : (t) => t > margin;
  return {
    name: `threshold-${type}`,
    mine(d, labels) {
      const b = d.size;
      const far = d.far;
      const rs = new RowSplit(b);
      const out = new TripletBuilder(b * 8);
      for (let a = 0; a < b; a++) {
        rs.split(labels, a);
        if (rs.numPositives === 0) { out.count('anchors_without_positive'); continue; }
        if (rs.numNegatives === 0) { out.count('anchors_without_negative'); continue; }
        const row = a * b;
        for (let i = 0; i < rs.numPositives; i++) {
          const p = rs.positives[i] as number;
          const dap = far[row + p] as number;
          for (let k = 0; k < rs.numNegatives; k++) {
            const n = rs.negatives[k] as number;
            if (keep((far[row + n] as number) - dap)) out.push(a, p, n);
          }
        }
      }
      return out.finish();
    },
  };
}
