import { type EmptyBatch, type Reducer } from './reducer.js';

/** Options of the avg-non-zero reducer. */
export interface AvgNonZeroReducerOptions {
  /** Result when no triplet has a positive loss: `zero` (default) or `nan`. */
  readonly empty?: EmptyBatch;
}

/**
 * Mean over the triplets whose loss is > 0 (PML AvgNonZeroReducer; ST BatchAllTripletLoss); 0 when none is.
 * Keeps the loss from shrinking as more triplets become easy (Hermans et al. 2017 §3.5, "batch all (≠0)").
 */
export function avgNonZeroReducer({ empty = 'zero' }: AvgNonZeroReducerOptions = {}): Reducer {
  return {
    name: 'avg-non-zero',
    reduce(losses) {
      let s = 0;
      let count = 0;
      for (let i = 0; i < losses.length; i++) {
        const v = losses[i] as number;
        if (v > 0) {
          s += v;
          count++;
        }
      }
      const weights = new Float64Array(losses.length);
      if (count === 0) return { loss: empty === 'nan' ? NaN : 0, weights };
      // zero terms get the same weight: their hinge slope is 0 unless a peer's convention says otherwise
      weights.fill(1 / count);
      return { loss: s / count, weights };
    },
  };
}
