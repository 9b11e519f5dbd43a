import * as tf from '@tensorflow/tfjs';
import type { Matrix } from '../../stages/metric/matrix.js';
import type { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import { retrievalMetrics } from '../../stages/metric/retrieval/retrieval-metrics.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';

/** Retrieval quality of a model on a held-out set (Musgrave et al. 2020): each item queries all the others. */
export interface EvalMetrics {
  readonly precision_at_1: number;
  readonly r_precision: number;
  readonly mean_average_precision_at_r: number;
  readonly numQueries: number;
  readonly numExcluded: number;
}

/** a·bᵀ on the active tfjs backend (wasm: XNNPACK), float32; an explicit transpose is faster there than transposeB. */
export function tfDots(a: Matrix, b: Matrix): Float32Array {
  const ta = tf.tensor2d(a.data instanceof Float32Array ? a.data : Float32Array.from(a.data), [a.rows, a.cols]);
  const tb = tf.tensor2d(b.data instanceof Float32Array ? b.data : Float32Array.from(b.data), [b.rows, b.cols]);
  const tbt = tf.transpose(tb);
  const prod = tf.matMul(ta, tbt);
  const out = prod.dataSync() as Float32Array;
  tf.dispose([ta, tb, tbt, prod]);
  return out;
}

/** Embeds `docs` and scores retrieval with the query set as its own reference (self-matches excluded by index). */
export function evaluateModel(model: EmbeddingModel, docs: readonly TokenizedDoc[]): EvalMetrics {
  const D = model.outputDim;
  const data = model.embedDocs(docs);
  // the metric core takes numeric labels: number the classes in order of appearance
  const ids = new Map<string, number>();
  const labels = Int32Array.from(docs, (d) => {
    let k = ids.get(d.label);
    if (k === undefined) ids.set(d.label, (k = ids.size));
    return k;
  });
  const m = retrievalMetrics({ query: { data, rows: docs.length, cols: D }, queryLabels: labels, normalize: true, dots: tfDots });
  return {
    precision_at_1: m.precision_at_1,
    r_precision: m.r_precision,
    mean_average_precision_at_r: m.mean_average_precision_at_r,
    numQueries: m.numQueries,
    numExcluded: m.numExcluded,
  };
}
