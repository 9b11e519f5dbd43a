import { sumOf, type Reducer } from './reducer.js';

/** Sum over all mined triplets (PML SumReducer); 0 for no triplets. */
export function sumReducer(): Reducer {
  return {
    name: 'sum',
    reduce: (losses) => ({ loss: sumOf(losses), weights: new Float64Array(losses.length).fill(1) }),
  };
}
