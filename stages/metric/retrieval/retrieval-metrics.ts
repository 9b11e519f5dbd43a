import { makeDistance, type DistanceName } from '../distances/index.js';
import { checkBatch, classIds, l2Normalize, type Matrix } from '../matrix.js';

/** Inputs of retrievalMetrics. */
export interface RetrievalMetricsInput {
  /** Query embeddings, one row each. */
  readonly query: Matrix;
  /** One numeric label per query. */
  readonly queryLabels: ArrayLike<unknown>;
  /** Reference embeddings; omitted or null: the queries are their own reference, self-match excluded by index. */
  readonly reference?: Matrix | null;
  /** One numeric label per reference row (required with `reference`). */
  readonly referenceLabels?: ArrayLike<unknown> | null;
  /** L2-normalise both sets first. Default true. */
  readonly normalize?: boolean;
  /** `euclidean` (default) or `cosine`. */
  readonly distance?: DistanceName;
  /** Squared Euclidean (does not change rankings). Default false. */
  readonly squared?: boolean;
}

/** Retrieval accuracy (Musgrave, Belongie & Lim 2020, "A Metric Learning Reality Check", §3.2). */
export interface RetrievalMetrics {
  /** Fraction of queries whose nearest reference has the query's label. */
  readonly precision_at_1: number;
  /** Mean over queries of (same-label items among the R nearest) / R, R = number of same-label references. */
  readonly r_precision: number;
  /** Mean over queries of (1/R) Σ_{i<=R} P(i)·rel(i): MAP@R. */
  readonly mean_average_precision_at_r: number;
  /** Queries scored. */
  readonly numQueries: number;
  /** Queries excluded because no other reference item has their label. */
  readonly numExcluded: number;
}

/**
 * Precision@1, R-precision and MAP@R as PML's AccuracyCalculator (k = all references) defines them: references
 * ranked by distance (ties by lower index), queries whose label has no other reference item excluded.
 * Returns NaN metrics when every query is excluded.
 */
export function retrievalMetrics(input: RetrievalMetricsInput): RetrievalMetrics {
  const { query, queryLabels, normalize = true, distance = 'euclidean', squared = false } = input;
  const self = input.reference == null;
  const reference = input.reference ?? query;
  const referenceLabels = self ? queryLabels : input.referenceLabels;
  if (referenceLabels == null) throw new Error('retrieval metrics: referenceLabels are required with a reference set');
  checkBatch(query, queryLabels);
  if (!self) checkBatch(reference, referenceLabels);
  if (reference.cols !== query.cols) {
    throw new Error(`retrieval metrics: query rows have ${query.cols} dimensions but reference rows ${reference.cols}`);
  }
  // one id space for both label sets
  const ql = query.rows;
  const joint = classIds(Array.from({ length: ql + (self ? 0 : reference.rows) }, (_, i) =>
    i < ql ? queryLabels[i] : (referenceLabels as ArrayLike<unknown>)[i - ql]));
  const qIds = joint.subarray(0, ql);
  const rIds = self ? qIds : joint.subarray(ql);
  const useNorm = normalize || distance === 'cosine';
  const q = useNorm ? l2Normalize(query).y : query;
  const r = self ? q : useNorm ? l2Normalize(reference).y : reference;
  const nr = r.rows;
  const dist = makeDistance(distance, squared);
  const counts = new Map<number, number>();
  for (let j = 0; j < nr; j++) counts.set(rIds[j] as number, (counts.get(rIds[j] as number) ?? 0) + 1);
  const order = new Int32Array(nr);
  const far = new Float64Array(nr);
  let p1 = 0, rp = 0, map = 0, scored = 0, excluded = 0;
  for (let i = 0; i < ql; i++) {
    const label = qIds[i] as number;
    const R = (counts.get(label) ?? 0) - (self ? 1 : 0);
    if (R <= 0) { excluded++; continue; }
    let len = 0;
    for (let j = 0; j < nr; j++) {
      if (self && j === i) continue;
      far[j] = dist.farBetween(q, i, r, j);
      order[len++] = j;
    }
    const ranked = order.subarray(0, len).sort((x, y) => (far[x] as number) - (far[y] as number) || x - y);
    let hits = 0, ap = 0;
    for (let k = 0; k < R; k++) {
      if (rIds[ranked[k] as number] === label) {
        hits++;
        ap += hits / (k + 1);
      }
    }
    if (rIds[ranked[0] as number] === label) p1++;
    rp += hits / R;
    map += ap / R;
    scored++;
  }
  return {
    precision_at_1: p1 / scored,
    r_precision: rp / scored,
    mean_average_precision_at_r: map / scored,
    numQueries: scored,
    numExcluded: excluded,
  };
}

