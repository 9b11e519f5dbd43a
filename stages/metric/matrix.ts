/**
 * Row-major matrices on typed arrays, input checks and L2 normalisation with its gradient.
 * Precision follows the input: a Float64Array is computed in float64, a Float32Array is stored in float32.
 */

/** A float typed array; the metric core computes in the precision of the array it is given. */
export type FloatArray = Float32Array | Float64Array;

/** A dense row-major `rows x cols` matrix (a batch of embeddings, one row each). */
export interface Matrix {
  readonly data: FloatArray;
  readonly rows: number;
  readonly cols: number;
}

/** A new zeroed array of the same precision as `like`. */
export function allocLike(like: FloatArray, length: number): FloatArray {
  return like instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

/** Builds a Matrix from nested rows; `dtype` picks the precision (default float64). */
export function matrixFromRows(rows: readonly (readonly number[])[], dtype: 'float32' | 'float64' = 'float64'): Matrix {
  const r = rows.length;
  const c = r > 0 ? (rows[0] as readonly number[]).length : 0;
  const data = dtype === 'float32' ? new Float32Array(r * c) : new Float64Array(r * c);
  rows.forEach((row, i) => {
    if (row.length !== c) throw new Error(`embeddings: row ${i} has ${row.length} values, expected ${c} like row 0`);
    for (let k = 0; k < c; k++) data[i * c + k] = row[k] as number;
  });
  return { data, rows: r, cols: c };
}

/** The matrix as nested number arrays (for JSON output). */
export function matrixToRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/**
 * Checks a batch and its labels; throws an Error naming the problem: fewer than 2 rows, a label count that differs
 * from the row count, a non-numeric or non-finite label, a NaN or infinite embedding value.
 * Returns the labels as dense class ids (Int32Array, 0..numClasses-1, in order of first appearance).
 */
export function checkBatch(x: Matrix, labels: ArrayLike<unknown>): Int32Array {
  if (!Number.isInteger(x.rows) || !Number.isInteger(x.cols) || x.data.length !== x.rows * x.cols) {
    throw new Error(`embeddings: data has ${x.data.length} values but rows x cols = ${x.rows} x ${x.cols}`);
  }
  if (x.rows < 2) {
    throw new Error(`embeddings: a batch needs at least 2 rows to form pairs (got ${x.rows}); use a larger batch`);
  }
  if (x.cols < 1) throw new Error(`embeddings: rows must have at least 1 dimension (got ${x.cols})`);
  if (labels.length !== x.rows) {
    throw new Error(`labels: expected one label per embedding row (${x.rows}), got ${labels.length}; pass labels for every row`);
  }
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (!Number.isFinite(v)) {
      const row = Math.floor(i / x.cols);
      throw new Error(`embeddings: row ${row}, column ${i % x.cols} is ${v}; embeddings must be finite (check the model for NaN/Inf)`);
    }
  }
  return classIds(labels);
}

/** Maps labels to dense class ids; a non-numeric or non-finite label throws. */
export function classIds(labels: ArrayLike<unknown>): Int32Array {
  const ids = new Int32Array(labels.length);
  const seen = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (typeof l !== 'number' || !Number.isFinite(l)) {
      throw new Error(`labels: label ${i} is ${JSON.stringify(l) ?? String(l)} (${typeof l}); labels must be finite numbers`);
    }
    let id = seen.get(l);
    if (id === undefined) {
      id = seen.size;
      seen.set(l, id);
    }
    ids[i] = id;
  }
  return ids;
}

/** Smallest norm divided by, as in torch.nn.functional.normalize (PML, ST): rows with a smaller norm are not blown up. */
export const NORMALIZE_EPS = 1e-12;

/** Row-wise L2 normalisation y = x / max(|x|, 1e-12) (torch.nn.functional.normalize); returns y and the divisors. */
export function l2Normalize(x: Matrix): { y: Matrix; norms: Float64Array } {
  const { rows, cols, data } = x;
  const out = allocLike(data, data.length);
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let k = 0; k < cols; k++) {
      const v = data[o + k] as number;
      s += v * v;
    }
    const n = Math.max(Math.sqrt(s), NORMALIZE_EPS);
    norms[i] = n;
    for (let k = 0; k < cols; k++) out[o + k] = (data[o + k] as number) / n;
  }
  return { y: { data: out, rows, cols }, norms };
}

/** Gradient through l2Normalize: dx = (dy - y (y . dy)) / n, or dy / eps for rows whose norm was clamped. In place on `dy`. */
export function l2NormalizeBackward(y: Matrix, norms: Float64Array, dy: FloatArray): FloatArray {
  const { rows, cols } = y;
  const yd = y.data;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const n = norms[i] as number;
    if (n <= NORMALIZE_EPS) {
      for (let k = 0; k < cols; k++) dy[o + k] = (dy[o + k] as number) / n;
      continue;
    }
    let dot = 0;
    for (let k = 0; k < cols; k++) dot += (yd[o + k] as number) * (dy[o + k] as number);
    for (let k = 0; k < cols; k++) dy[o + k] = ((dy[o + k] as number) - (yd[o + k] as number) * dot) / n;
  }
  return dy;
}
