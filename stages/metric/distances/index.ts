import type { Distance } from './distance.js';
import { cosine } from './cosine.js';
import { euclidean } from './euclidean.js';

export { makeDistanceMatrix, pairsFromTriplets, type Distance, type PairList, type DistanceMatrix } from './distance.js';
export { euclidean, type EuclideanOptions } from './euclidean.js';
export { cosine } from './cosine.js';

/** Names of the built-in distances. */
export type DistanceName = 'euclidean' | 'cosine';

/** The distance registered under `name`; `squared` applies to euclidean only (default true). */
export function makeDistance(name: DistanceName, squared = true): Distance {
  return name === 'cosine' ? cosine() : euclidean({ squared });
}
