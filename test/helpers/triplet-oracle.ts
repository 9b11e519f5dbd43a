/**
 * Brute-force reference miners for tests: each enumerates every (a, p, n) of the batch and applies the definition
 * literally, on the same DistanceMatrix the real miners read. Slow (O(B³)); for small random batches only.
 */
import type { DistanceMatrix } from '../../stages/metric/distances/distance.js';

/** One triplet [a, p, n]. */
export type Triplet = [number, number, number];

function classes(labels: ArrayLike<number>) {
  const b = labels.length;
  const pos = (a: number) => Array.from({ length: b }, (_, j) => j).filter((j) => j !== a && labels[j] === labels[a]);
  const neg = (a: number) => Array.from({ length: b }, (_, j) => j).filter((j) => labels[j] !== labels[a]);
  return { b, pos, neg };
}

/** The lowest index j in `js` minimising `f(j)`, or -1. */
function argBest(js: number[], f: (j: number) => number, better: (x: number, y: number) => boolean): number {
  let best = -1;
  for (const j of js) if (best < 0 || better(f(j), f(best))) best = j;
  return best;
}
const far = (d: DistanceMatrix, i: number, j: number) => d.far[i * d.size + j] as number;

/** Every valid triplet whose gap satisfies `keep`, sorted by (a, p, n). */
export function bruteAll(d: DistanceMatrix, labels: ArrayLike<number>, keep: (gap: number) => boolean = () => true): Triplet[] {
  const { b, pos, neg } = classes(labels);
  const out: Triplet[] = [];
  for (let a = 0; a < b; a++) for (const p of pos(a)) for (const n of neg(a)) if (keep(d.gap(a, p, n))) out.push([a, p, n]);
  return out;
}

/** Semi-hard (FaceNet): per pair, nearest negative with 0 < gap < margin (unbounded: gap > 0); fallback otherwise. */
export function bruteSemiHard(
  d: DistanceMatrix, labels: ArrayLike<number>, margin: number,
  fallback: 'hardest' | 'easiest' | 'skip', bounded = true,
): Triplet[] {
  const { b, pos, neg } = classes(labels);
  const out: Triplet[] = [];
  for (let a = 0; a < b; a++) {
    const negs = neg(a);
    if (negs.length === 0) continue;
    for (const p of pos(a)) {
      const semi = negs.filter((n) => d.gap(a, p, n) > 0 && (!bounded || d.gap(a, p, n) < margin));
      let n = argBest(semi, (j) => far(d, a, j), (x, y) => x < y);
      if (n < 0) {
        if (fallback === 'skip') continue;
        n = fallback === 'hardest'
          ? argBest(negs, (j) => far(d, a, j), (x, y) => x < y)
          : argBest(negs, (j) => far(d, a, j), (x, y) => x > y);
      }
      out.push([a, p, n]);
    }
  }
  return out;
}

/** Hard-negative: per pair, the anchor's nearest negative. */
export function bruteHardNegative(d: DistanceMatrix, labels: ArrayLike<number>): Triplet[] {
  const { b, pos, neg } = classes(labels);
  const out: Triplet[] = [];
  for (let a = 0; a < b; a++) {
    const n = argBest(neg(a), (j) => far(d, a, j), (x, y) => x < y);
    if (n < 0) continue;
    for (const p of pos(a)) out.push([a, p, n]);
  }
  return out;
}

/** Batch-hard: per anchor, farthest (or nearest) positive and nearest negative (or nearest beyond the positive). */
export function bruteBatchHard(
  d: DistanceMatrix, labels: ArrayLike<number>,
  positive: 'hardest' | 'easiest' = 'hardest', negative: 'hardest' | 'semi-hard' = 'hardest',
): Triplet[] {
  const { b, pos, neg } = classes(labels);
  const out: Triplet[] = [];
  for (let a = 0; a < b; a++) {
    const p = argBest(pos(a), (j) => far(d, a, j), positive === 'hardest' ? (x, y) => x > y : (x, y) => x < y);
    if (p < 0) continue;
    const cands = negative === 'hardest' ? neg(a) : neg(a).filter((n) => d.gap(a, p, n) > 0);
    const n = argBest(cands, (j) => far(d, a, j), (x, y) => x < y);
    if (n < 0) continue;
    out.push([a, p, n]);
  }
  return out;
}

/** PML TripletMarginMiner thresholds on t = gap. */
export function bruteThreshold(d: DistanceMatrix, labels: ArrayLike<number>, type: 'all' | 'hard' | 'semihard' | 'easy', margin: number): Triplet[] {
  const keep = {
    all: (t: number) => t <= margin,
    hard: (t: number) => t <= 0,
    semihard: (t: number) => t > 0 && t <= margin,
    easy: (t: number) => t > margin,
  }[type];
  return bruteAll(d, labels, keep);
}

/** Sorted [a, p, n] rows of parallel arrays. */
export function asRows(t: { anchor: Int32Array; positive: Int32Array; negative: Int32Array }): Triplet[] {
  return Array.from(t.anchor, (a, i) => [a, t.positive[i] as number, t.negative[i] as number] as Triplet)
    .sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
}

/** Sorts triplet rows by (a, p, n). */
export function sortRows(rows: Triplet[]): Triplet[] {
  return [...rows].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
}
