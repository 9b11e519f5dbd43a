import { sumOf, type EmptyBatch, type Reducer } from './reducer.js';

/** Options of the mean reducer. */
export interface MeanReducerOptions {
  /** Result when there are no triplets: `zero` (default) or `nan`. */
  readonly empty?: EmptyBatch;
}

/** Mean over all mined triplets, zeros included (PML MeanReducer; ST batch-hard / semi-hard `.mean()` / `/ num_positives`). */
export function meanReducer({ empty = 'zero' }: MeanReducerOptions = {}): Reducer {
  return {
    name: 'mean',
    reduce(losses) {
      const n = losses.length;
      if (n === 0) return { loss: empty === 'nan' ? NaN : 0, weights: new Float64Array(0) };
      return { loss: sumOf(losses) / n, weights: new Float64Array(n).fill(1 / n) };
    },
  };
}
