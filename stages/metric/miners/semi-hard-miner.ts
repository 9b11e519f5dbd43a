import { TripletBuilder } from '../triplets.js';
import {
  argMaxOf, argMinOf, nearestBeyond, rowArgMin, RowSplit, tfMaskedFarthestNegative, tfMaskedNearestBeyond, type Miner,
} from './miner.js';

/** What a semi-hard miner does with an anchor-positive pair that has no semi-hard negative. */
export type SemiHardFallback = 'hardest' | 'easiest' | 'skip';

/** Options of the semi-hard miner. */
export interface SemiHardMinerOptions {
  /** α: a semi-hard negative has d_ap < d_an < d_ap + α. Distance units (squared for squared Euclidean). Default 0.2. */
  readonly margin?: number;
  /**
   * Apply the upper bound d_an < d_ap + α (FaceNet; default true). `false`: the nearest negative with d_an > d_ap at
   * any distance (TF-Addons `triplet_semihard_loss`, ST BatchSemiHardTripletLoss).
   */
  readonly bounded?: boolean;
  /**
   * A pair without a semi-hard negative takes `hardest` (the nearest negative; default, as the recipe advises),
   * `easiest` (the farthest negative; TF-Addons and ST) or is skipped (`skip`, counted).
   */
  readonly fallback?: SemiHardFallback;
  /**
   * Reproduce TF-Addons `triplet_semihard_loss` / ST BatchSemiHardTripletLoss's masked reductions (default false):
   * anchors without a negative are kept with d_an = the row minimum (TF's masked maximum of an empty set), and
   * nearest/farthest negatives tied with the row's maximum/minimum resolve as TF's `_masked_minimum` /
   * `_masked_maximum` do. Use it only to reproduce those libraries.
   */
  readonly tfMasked?: boolean;
}

/**
 * Semi-hard (Schroff, Kalenichenko & Philbin 2015, "FaceNet", §3.2): for each anchor-positive pair, the nearest
 * negative farther than the positive but by less than α: d_ap < d_an < d_ap + α. Ties go to the lowest index.
 * Cost per anchor O(P·N) for few positives, else O(N log N + P log N) with the negatives sorted once.
 */
export function semiHardMiner(opts: SemiHardMinerOptions = {}): Miner {
  const { margin = 0.2, bounded = true, fallback = 'hardest', tfMasked = false } = opts;
  return {
    name: 'semi-hard',
    mine(d, labels) {
      const b = d.size;
      const far = d.far;
      const rs = new RowSplit(b);
      const out = new TripletBuilder(b * 4);
      const sorted = new Int32Array(b);
      const sortedFar = new Float64Array(b);
      for (let a = 0; a < b; a++) {
        rs.split(labels, a);
        const np = rs.numPositives;
        const nn = rs.numNegatives;
        if (np === 0) { out.count('anchors_without_positive'); continue; }
        if (nn === 0) {
          out.count('anchors_without_negative');
          if (tfMasked) {
            const n = rowArgMin(far, b, a);
            for (let k = 0; k < np; k++) out.push(a, rs.positives[k] as number, n);
          }
          continue;
        }
        const row = a * b;
        let hardest = -1;
        let easiest = -1;
        // sort only when the per-pair scans would cost more than sorting the negatives once
        const useSort = !tfMasked && np > 2 * Math.log2(nn + 1) + 4;
        if (useSort) {
          const neg = rs.negatives.subarray(0, nn);
          sorted.set(neg);
          const s = sorted.subarray(0, nn);
          s.sort((x, y) => (far[row + x] as number) - (far[row + y] as number) || x - y);
          for (let k = 0; k < nn; k++) sortedFar[k] = far[row + (s[k] as number)] as number;
          hardest = s[0] as number;
        }
        for (let k = 0; k < np; k++) {
          const p = rs.positives[k] as number;
          const dap = far[row + p] as number;
          let n: number;
          if (useSort) {
            // first sorted position with far > dap: the nearest beyond the positive, lowest index among ties
            let lo = 0, hi = nn;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if ((sortedFar[mid] as number) > dap) hi = mid;
              else lo = mid + 1;
            }
            n = lo < nn ? (sorted[lo] as number) : -1;
          } else if (tfMasked) n = tfMaskedNearestBeyond(far, b, a, labels, dap);
          else n = nearestBeyond(far, row, rs.negatives, nn, dap);
          if (n >= 0 && (!bounded || (far[row + n] as number) - dap < margin)) {
            out.push(a, p, n);
            continue;
          }
          out.count('pairs_without_semi_hard');
          if (fallback === 'skip') { out.count('pairs_skipped'); continue; }
          if (fallback === 'hardest') {
            if (hardest < 0) hardest = argMinOf(far, row, rs.negatives, nn);
            out.push(a, p, hardest);
          } else {
            if (easiest < 0) easiest = tfMasked ? tfMaskedFarthestNegative(far, b, a, labels) : argMaxOf(far, row, rs.negatives, nn);
            out.push(a, p, easiest);
          }
        }
      }
      return out.finish();
    },
  };
}
