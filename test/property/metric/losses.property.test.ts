import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { it } from '@fast-check/vitest';
import type { MinerSpecInput } from '../../../schemas/triplets.js';
import { tripletLoss } from '../../../stages/metric/triplet-loss.js';

const batchArb = fc
  .record({ b: fc.integer({ min: 2, max: 10 }), d: fc.integer({ min: 1, max: 5 }), classes: fc.integer({ min: 1, max: 4 }) })
  .chain(({ b, d, classes }) => fc.record({
    x: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: b * d, maxLength: b * d }),
    labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: b, maxLength: b }),
    b: fc.constant(b),
    d: fc.constant(d),
  }));

/** Classes around orthogonal centres with small noise, so every gap is usually positive. */
const separatedArb = fc
  .record({ b: fc.integer({ min: 2, max: 10 }), classes: fc.integer({ min: 1, max: 4 }) })
  .chain(({ b, classes }) => fc.record({
    noise: fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { minLength: b * 4, maxLength: b * 4 }),
    labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: b, maxLength: b }),
    b: fc.constant(b),
  }))
  .map(({ noise, labels, b }) => ({
    x: noise.map((v, k) => v + (Math.floor(k / 4) < b && k % 4 === labels[Math.floor(k / 4)] ? 1 : 0)),
    labels, b, d: 4,
  }));

const minerArb = fc.constantFrom<MinerSpecInput>(
  { name: 'semi-hard' }, { name: 'semi-hard', fallback: 'easiest' }, { name: 'semi-hard', fallback: 'skip' },
  { name: 'hard-negative' }, { name: 'batch-hard' }, { name: 'batch-all' },
  { name: 'threshold', type: 'all' }, { name: 'threshold', type: 'hard' },
);
const settingsArb = fc.record({
  squared: fc.boolean(),
  normalize: fc.boolean(),
  distance: fc.constantFrom('euclidean' as const, 'cosine' as const),
  reducer: fc.constantFrom('mean' as const, 'avg-non-zero' as const, 'sum' as const),
});

describe('triplet loss properties', () => {
  it.prop([batchArb, minerArb, settingsArb, fc.constantFrom(0, 0.2, 1), fc.constantFrom('margin' as const, 'soft-margin' as const)], { numRuns: 300 })(
    'loss >= 0, finite, with a finite gradient', ({ x, labels, b, d }, miner, s, margin, loss) => {
      const r = tripletLoss({ ...s, margin, miner, loss }).compute({ data: Float64Array.from(x), rows: b, cols: d }, labels);
      expect(r.loss).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(r.loss)).toBe(true);
      for (const v of r.losses) expect(v).toBeGreaterThanOrEqual(0);
      for (const g of r.grad as Float64Array) expect(Number.isFinite(g)).toBe(true);
    });

  it.prop([separatedArb, minerArb, settingsArb], { numRuns: 120 })(
    'the margin loss is 0 (and its gradient 0) when every gap exceeds the margin', ({ x, labels, b, d }, miner, s) => {
      const data = Float64Array.from(x);
      const probe = tripletLoss({ ...s, miner: { name: 'batch-all' } }).compute({ data, rows: b, cols: d }, labels, { grad: false });
      let minGap = Infinity;
      const t = probe.triplets;
      for (let k = 0; k < t.anchor.length; k++) {
        minGap = Math.min(minGap, probe.distances.gap(t.anchor[k] as number, t.positive[k] as number, t.negative[k] as number));
      }
      fc.pre(minGap > 1e-9 && Number.isFinite(minGap));
      const r = tripletLoss({ ...s, miner, margin: minGap / 2 }).compute({ data, rows: b, cols: d }, labels);
      expect(r.loss).toBe(0);
      for (const g of r.grad as Float64Array) expect(g).toBe(0);
    });

  it.prop([fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }),
    fc.constantFrom<MinerSpecInput>({ name: 'semi-hard' }, { name: 'hard-negative' }, { name: 'batch-hard' }, { name: 'batch-all' }, { name: 'threshold', type: 'all' }),
    fc.boolean(), fc.boolean(), fc.constantFrom(0.05, 0.2, 1)], { numRuns: 200 })(
    'at collapse (all rows equal) every margin loss is α and every gradient 0', (b, d, row, miner, squared, normalize, margin) => {
      fc.pre(row.slice(0, d).some((v) => v !== 0));
      const data = new Float64Array(b * d);
      for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) data[i * d + k] = row[k] as number;
      const labels = Array.from({ length: b }, (_, i) => i % 2);
      const r = tripletLoss({ miner, squared, normalize, margin, reducer: 'mean' }).compute({ data, rows: b, cols: d }, labels);
      if (r.triplets.anchor.length === 0) return;
      for (const l of r.losses) expect(l).toBe(margin);
      expect(r.loss).toBeCloseTo(margin, 14);
      for (const g of r.grad as Float64Array) expect(g).toBe(0);
    });

  it.prop([batchArb, settingsArb, fc.constantFrom('margin' as const, 'soft-margin' as const)], { numRuns: 50, maxSkipsPerRun: 1000 })(
    'the analytic gradient matches central finite differences (batch-all, away from kinks)', ({ x, labels, b, d }, s, loss) => {
      const data = Float64Array.from(x);
      const fn = tripletLoss({ ...s, loss, miner: { name: 'batch-all' } });
      const r = fn.compute({ data, rows: b, cols: d }, labels);
      // skip batches near a kink of the hinge, of the sqrt at 0, or of the normalisation at 0
      for (let k = 0; k < r.triplets.anchor.length; k++) {
        const gap = r.distances.gap(r.triplets.anchor[k] as number, r.triplets.positive[k] as number, r.triplets.negative[k] as number);
        fc.pre(Math.abs(0.2 - gap) > 1e-3);
      }
      for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) if (i !== j) fc.pre(Math.abs(r.distances.value(i, j)) > 1e-3 || s.distance === 'cosine');
      for (let i = 0; i < b; i++) {
        let n = 0;
        for (let k = 0; k < d; k++) n += (data[i * d + k] as number) ** 2;
        fc.pre(Math.sqrt(n) > 1e-2);
      }
      fc.pre(s.reducer !== 'avg-non-zero' || loss === 'soft-margin');
      const h = 1e-6;
      for (let k = 0; k < data.length; k++) {
        const plus = Float64Array.from(data); plus[k] = (plus[k] as number) + h;
        const minus = Float64Array.from(data); minus[k] = (minus[k] as number) - h;
        const fd = (fn.compute({ data: plus, rows: b, cols: d }, labels, { grad: false }).loss
          - fn.compute({ data: minus, rows: b, cols: d }, labels, { grad: false }).loss) / (2 * h);
        expect(Math.abs(fd - (r.grad as Float64Array)[k]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
    });
});
