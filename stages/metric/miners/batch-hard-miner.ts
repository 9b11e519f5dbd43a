import { TripletBuilder } from '../triplets.js';
import { argMaxOf, argMinOf, nearestBeyond, rowArgMax, RowSplit, tfMaskedNearestNegative, type Miner } from './miner.js';

/** Options of the batch-hard miner. */
export interface BatchHardMinerOptions {
  /** Which positive per anchor: `hardest` (farthest; default, Hermans et al.) or `easiest` (nearest; PML BatchEasyHardMiner pos_strategy=easy). */
  readonly positive?: 'hardest' | 'easiest';
  /**
   * Which negative per anchor: `hardest` (nearest; default) or `semi-hard` (the nearest negative farther than the
   * chosen positive, no upper bound and no fallback: PML BatchEasyHardMiner neg_strategy=semihard).
   */
  readonly negative?: 'hardest' | 'semi-hard';
  /**
   * Reproduce sentence-transformers BatchHardTripletLoss's masked reductions (default false): every anchor is kept;
   * a missing positive is the anchor itself (d_ap = 0), a missing negative is the row maximum, and a tie of the
   * nearest negative with the row maximum resolves as ST's `min(d + max * (1 - mask))` does. Such triplets are not
   * valid triplets; use it only to reproduce ST.
   */
  readonly tfMasked?: boolean;
}

/**
 * Batch-hard (Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss"): per anchor, the farthest positive and
 * the nearest negative; one triplet per anchor. Ties go to the lowest index. Matches PML BatchHardMiner.
 */
export function batchHardMiner(opts: BatchHardMinerOptions = {}): Miner {
  const { positive = 'hardest', negative = 'hardest', tfMasked = false } = opts;
  return {
    name: 'batch-hard',
    mine(d, labels) {
      const b = d.size;
      const far = d.far;
      const rs = new RowSplit(b);
      const out = new TripletBuilder(b);
      for (let a = 0; a < b; a++) {
        rs.split(labels, a);
        const row = a * b;
        let p = positive === 'hardest'
          ? argMaxOf(far, row, rs.positives, rs.numPositives)
          : argMinOf(far, row, rs.positives, rs.numPositives);
        let n = -1;
        if (negative === 'hardest') {
          n = tfMasked && rs.numNegatives > 0 ? tfMaskedNearestNegative(far, b, a, labels) : argMinOf(far, row, rs.negatives, rs.numNegatives);
        }
        else if (p >= 0) n = nearestBeyond(far, row, rs.negatives, rs.numNegatives, far[row + p] as number);
        if (p < 0) out.count('anchors_without_positive');
        else if (n < 0) out.count(rs.numNegatives === 0 ? 'anchors_without_negative' : 'anchors_without_semi_hard_negative');
        if (p < 0 || n < 0) {
          if (!tfMasked) continue;
          if (p < 0) p = a;
          if (n < 0) n = rowArgMax(far, b, a);
        }
        out.push(a, p, n);
      }
      return out.finish();
    },
  };
}
