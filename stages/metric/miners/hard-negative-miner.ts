import { TripletBuilder } from '../triplets.js';
import { argMinOf, RowSplit, type Miner } from './miner.js';

/**
 * Hard-negative: for every anchor-positive pair, the nearest negative of the anchor (lowest index among ties)
 * (Hermans et al. 2017 "batch hard" with all positives; FaceNet's "hardest negative"). Anchors lacking a positive or
 * a negative are dropped and counted.
 */
export function hardNegativeMiner(): Miner {
  return {
    name: 'hard-negative',
    mine(d, labels) {
      const b = d.size;
      const rs = new RowSplit(b);
      const out = new TripletBuilder(b * 4);
      for (let a = 0; a < b; a++) {
        rs.split(labels, a);
        if (rs.numPositives === 0) { out.count('anchors_without_positive'); continue; }
        if (rs.numNegatives === 0) { out.count('anchors_without_negative'); continue; }
        const n = argMinOf(d.far, a * b, rs.negatives, rs.numNegatives);
        for (let k = 0; k < rs.numPositives; k++) out.push(a, rs.positives[k] as number, n);
      }
      return out.finish();
    },
  };
}
