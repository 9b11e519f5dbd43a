import type { DistanceMatrix } from './distances/distance.js';
import { batchHardMiner } from './miners/batch-hard-miner.js';

/** Per-batch figures that tell whether training works, whatever miner trains. */
export interface BatchDiagnostics {
  /**
   * Batch-hard ("hardest") loss: per anchor, relu(d(a, farthest positive) − d(a, nearest negative) + α), mean over
   * the anchors that have both (Hermans et al. 2017). Comparable across phases; exactly α at collapse.
   */
  readonly hardestLoss: number;
  /** Mean distance over positive pairs (same label, i ≠ j). */
  readonly meanPos: number;
  /** Mean distance over negative pairs. */
  readonly meanNeg: number;
  /** Embedding spread: mean distance over all pairs i < j. Near 0 when the model has collapsed to a point. */
  readonly spread: number;
}

const hardest = batchHardMiner({});

/** Diagnostics of one batch from the distance matrix the training loss already computed (no extra B²·D work). */
export function batchDiagnostics(d: DistanceMatrix, labels: ArrayLike<number>, margin: number): BatchDiagnostics {
  const B = d.size;
  let pos = 0, nPos = 0, neg = 0, nNeg = 0;
  for (let i = 0; i < B; i++) {
    for (let j = i + 1; j < B; j++) {
      const v = d.value(i, j);
      if (labels[i] === labels[j]) { pos += v; nPos++; } else { neg += v; nNeg++; }
    }
  }
  const t = hardest.mine(d, labels);
  let loss = 0;
  for (let k = 0; k < t.anchor.length; k++) {
    loss += Math.max(0, margin - d.gap(t.anchor[k] as number, t.positive[k] as number, t.negative[k] as number));
  }
  return {
    hardestLoss: t.anchor.length > 0 ? loss / t.anchor.length : 0,
    meanPos: nPos > 0 ? pos / nPos : 0,
    meanNeg: nNeg > 0 ? neg / nNeg : 0,
    spread: nPos + nNeg > 0 ? (pos + neg) / (nPos + nNeg) : 0,
  };
}
