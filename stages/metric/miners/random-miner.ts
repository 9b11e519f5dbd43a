import { TripletBuilder } from '../triplets.js';
import { RowSplit, type Miner } from './miner.js';

/** Options of the random miner. */
export interface RandomMinerOptions {
  /** Uniform generator in [0, 1), e.g. `() => ctx.rng('mine-triplets').next()`; seeded by the caller for replays. */
  readonly rng: () => number;
}

/**
 * Random (a baseline): per anchor, one uniformly drawn positive and one uniformly drawn negative. Draws positive
 * then negative, anchors in order, so a seeded `rng` replays exactly. Anchors lacking either are dropped and counted.
 */
export function randomMiner({ rng }: RandomMinerOptions): Miner {
  return {
    name: 'random',
    mine(d, labels) {
      const b = d.size;
      const rs = new RowSplit(b);
      const out = new TripletBuilder(b);
      const pick = (len: number) => Math.min(len - 1, Math.floor(rng() * len));
      for (let a = 0; a < b; a++) {
        rs.split(labels, a);
        if (rs.numPositives === 0) { out.count('anchors_without_positive'); continue; }
        if (rs.numNegatives === 0) { out.count('anchors_without_negative'); continue; }
        const p = rs.positives[pick(rs.numPositives)] as number;
        const n = rs.negatives[pick(rs.numNegatives)] as number;
        out.push(a, p, n);
      }
      return out.finish();
    },
  };
}
