import { countValidTriplets, TripletBuilder } from '../triplets.js';
import { RowSplit, type Miner } from './miner.js';

/**
 * Batch-all (Hermans et al. 2017; PML with no miner; ST BatchAllTripletLoss): every valid triplet, in (a, p, n) order.
 * O(B·P·N) triplets: meant for small batches and for reference.
 */
export function batchAllMiner(): Miner {
  return {
    name: 'batch-all',
    mine(d, labels) {
      const b = d.size;
      const rs = new RowSplit(b);
      const out = new TripletBuilder(countValidTriplets(labels));
      for (let a = 0; a < b; a++) {
        rs.split(labels, a);
        if (rs.numPositives === 0) { out.count('anchors_without_positive'); continue; }
        if (rs.numNegatives === 0) { out.count('anchors_without_negative'); continue; }
        for (let i = 0; i < rs.numPositives; i++) {
          const p = rs.positives[i] as number;
          for (let k = 0; k < rs.numNegatives; k++) out.push(a, p, rs.negatives[k] as number);
        }
      }
      return out.finish();
    },
  };
}
