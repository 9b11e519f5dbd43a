import { avgNonZeroReducer } from './avg-non-zero-reducer.js';
import { meanReducer } from './mean-reducer.js';
import type { EmptyBatch, Reducer } from './reducer.js';
import { sumReducer } from './sum-reducer.js';

export { avgNonZeroReducer, type AvgNonZeroReducerOptions } from './avg-non-zero-reducer.js';
export { meanReducer, type MeanReducerOptions } from './mean-reducer.js';
export { sumReducer } from './sum-reducer.js';
export { sumOf, type EmptyBatch, type Reducer, type Reduction } from './reducer.js';

/** Names of the built-in reducers. */
export type ReducerName = 'mean' | 'avg-non-zero' | 'sum';

/** The reducer registered under `name`. */
export function makeReducer(name: ReducerName, empty: EmptyBatch = 'zero'): Reducer {
  if (name === 'mean') return meanReducer({ empty });
  if (name === 'sum') return sumReducer();
  return avgNonZeroReducer({ empty });
}
