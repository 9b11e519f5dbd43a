import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matrixFromRows } from '../../../stages/metric/matrix.js';
import { PEER_NAMES, PEER_RECIPES } from '../../../stages/metric/peers.js';
import { retrievalMetrics } from '../../../stages/metric/retrieval/retrieval-metrics.js';
import { sortedTriplets } from '../../../stages/metric/triplets.js';
import { tripletLoss } from '../../../stages/metric/triplet-loss.js';

// Reference vectors from pytorch-metric-learning 2.8.1 and sentence-transformers 5.2 (see fixtures/oracle/README.md).
const dir = join(import.meta.dirname, '../../fixtures/oracle');
const files = readdirSync(dir).filter((f) => /^\d{3}_.*\.json$/.test(f)).sort();
const num = (v: unknown): number => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));

interface PeerEntry {
  loss: number | string;
  grad?: unknown[][];
  num_triplets?: number;
  num_nonzero_loss_triplets?: number;
  triplets_sha256?: string;
  triplets_deterministic?: boolean;
  triplets?: number[][];
}

function expectClose(got: number, want: number, rel: number, what: string): void {
  if (Number.isNaN(want)) {
    expect(got, what).toBeNaN();
    return;
  }
  const tol = rel * Math.max(Math.abs(want), 1e-12) + 1e-15;
  expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(tol);
}

describe('oracle vectors (PML 2.8.1 / ST 5.2)', () => {
  it('finds the fixtures', () => expect(files.length).toBeGreaterThanOrEqual(28));

  for (const f of files) {
    const file = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const c = file.case;
    if (c.kind === 'eval') {
      it(`${f}: precision@1, R-precision, MAP@R`, () => {
        const m = retrievalMetrics({
          query: matrixFromRows(c.query),
          queryLabels: c.query_labels,
          reference: c.reference ? matrixFromRows(c.reference) : null,
          referenceLabels: c.reference_labels,
          normalize: c.normalize,
          squared: c.squared,
        });
        const want = file.peers.pml_accuracy_calculator;
        for (const k of ['precision_at_1', 'r_precision', 'mean_average_precision_at_r'] as const) {
          expectClose(m[k], want[k], 1e-12, k);
        }
      });
      continue;
    }
    const rel = c.dtype === 'float32' ? 2e-5 : 1e-9;
    const x = matrixFromRows(c.embeddings, c.dtype);
    const base = { margin: c.margin, squared: c.squared, normalize: c.normalize };
    for (const peer of PEER_NAMES) {
      const want = file.peers[peer] as PeerEntry | undefined;
      if (!want) continue;
      it(`${f}: ${peer}`, () => {
        const r = tripletLoss({ ...base, ...PEER_RECIPES[peer].options }).compute(x, c.labels);
        expectClose(r.loss, num(want.loss), rel, 'loss');
        if (want.grad) {
          const g = r.grad as Float64Array | Float32Array;
          let scale = 0;
          for (const row of want.grad) for (const v of row) if (Number.isFinite(num(v))) scale = Math.max(scale, Math.abs(num(v)));
          want.grad.forEach((row, i) => row.forEach((v, j) => {
            const w = num(v);
            const got = g[i * x.cols + j] as number;
            if (Number.isNaN(w)) expect(got, `grad[${i}][${j}]`).toBeNaN();
            // element-wise against the largest entry: tiny entries carry only rounding
            else expect(Math.abs(got - w), `grad[${i}][${j}]: got ${got}, want ${w}`).toBeLessThanOrEqual(rel * Math.max(scale, 1e-12) + 1e-15);
          }));
        }
        if (want.num_triplets !== undefined) expect(r.triplets.anchor.length).toBe(want.num_triplets);
        if (want.num_nonzero_loss_triplets !== undefined) expect(r.numNonzero).toBe(want.num_nonzero_loss_triplets);
        if (want.triplets_deterministic) {
          const rows = sortedTriplets(r.triplets);
          if (want.triplets) expect(rows).toEqual(want.triplets);
          if (want.triplets_sha256) {
            const h = createHash('sha256').update(rows.map((t) => t.join(',')).join('\n')).digest('hex');
            expect(h).toBe(want.triplets_sha256);
          }
        }
      });
    }
    const dm = (file.peers.pml_distance_matrix ?? file.peers.st_pairwise_distance) as number[][] | undefined;
    if (dm) {
      it(`${f}: distance matrix`, () => {
        const r = tripletLoss(base).compute(x, c.labels, { grad: false });
        dm.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(r.distances.value(i, j) - v)).toBeLessThanOrEqual(c.dtype === 'float32' ? 1e-5 : 1e-12)));
      });
    }
  }
});
