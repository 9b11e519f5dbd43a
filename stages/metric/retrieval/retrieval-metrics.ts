import type { DistanceName } from '../distances/index.js';
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
  /**
   * Dot products of a block of query rows with every reference row (block rows × reference rows, row-major),
   * computed elsewhere, e.g. tf.matMul on the wasm backend (float32, as PML's AccuracyCalculator). Default: a float64
   * loop here.
   */
  readonly dots?: (queryBlock: Matrix, reference: Matrix) => ArrayLike<number>;
}

/** Query rows per block of dot products. */
const BLOCK = 256;

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
  // ranking only needs the order of distances: squared and plain Euclidean rank alike, so both use
  // |q|² + |r|² − 2 q·r, and cosine uses −q·r; one tight float64 dot-product loop per pair
  const euclid = distance !== 'cosine';
  const D = q.cols;
  const qn = rowNorms2(q);
  const rn = self ? qn : rowNorms2(r);
  const counts = new Map<number, number>();
  for (let j = 0; j < nr; j++) counts.set(rIds[j] as number, (counts.get(rIds[j] as number) ?? 0) + 1);
  const far = new Float64Array(nr);
  const sorted = new Float64Array(nr);
  // float64 copies: one element type in the hot loop, and the precision the oracle was computed in
  const qd = Float64Array.from(q.data);
  const rd = self ? qd : Float64Array.from(r.data);
  let p1 = 0, rp = 0, map = 0, scored = 0, excluded = 0;
  let block: ArrayLike<number> | undefined;
  for (let i = 0; i < ql; i++) {
    const label = qIds[i] as number;
    const R = (counts.get(label) ?? 0) - (self ? 1 : 0);
    if (i % BLOCK === 0 && input.dots) {
      const rows = Math.min(BLOCK, ql - i);
      block = input.dots({ data: qd.subarray(i * D, (i + rows) * D), rows, cols: D }, { data: rd, rows: nr, cols: D });
    }
    if (R <= 0) { excluded++; continue; }
    const qo = i * D;
    const bo = (i % BLOCK) * nr;
    for (let j = 0; j < nr; j++) {
      let dot = 0;
      if (block) dot = block[bo + j] as number;
      else {
        const ro = j * D;
        for (let k = 0; k < D; k++) dot += (qd[qo + k] as number) * (rd[ro + k] as number);
      }
      far[j] = euclid ? (qn[i] as number) + (rn[j] as number) - 2 * dot : -dot;
    }
    // a query never retrieves itself: it ranks after everything else
    if (self) far[i] = Infinity;
    const len = self ? nr - 1 : nr;
    // the R nearest: native numeric sort gives the R-th value; ties at it go to the lower index, as PML ranks
    sorted.set(far);
    sorted.sort();
    const kth = sorted[R - 1] as number;
    const top: number[] = [];
    for (let j = 0; j < nr && top.length < len; j++) if ((far[j] as number) < kth) top.push(j);
    for (let j = 0; j < nr && top.length < R; j++) if (far[j] === kth) top.push(j);
    top.sort((x, y) => (far[x] as number) - (far[y] as number) || x - y);
    let hits = 0, ap = 0;
    for (let k = 0; k < R; k++) {
      if (rIds[top[k] as number] === label) {
        hits++;
        ap += hits / (k + 1);
      }
    }
    if (rIds[top[0] as number] === label) p1++;
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

/** Squared L2 norm of each row. */
function rowNorms2(m: Matrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let k = 0; k < m.cols; k++) s += (m.data[i * m.cols + k] as number) ** 2;
    out[i] = s;
  }
  return out;
}
