import { describe, expect, it } from 'vitest';
import { batchHardMiner, semiHardMiner } from '../../../stages/metric/miners/index.js';
import { euclidean } from '../../../stages/metric/distances/euclidean.js';
import { tripletLoss } from '../../../stages/metric/triplet-loss.js';
import { matrixFromRows } from '../../../stages/metric/matrix.js';

const x = matrixFromRows([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0], [-0.9, -0.2]]);
const labels = [0, 0, 1, 1, 2, 2];

describe('tripletLoss: bad input names the problem', () => {
  const fn = tripletLoss();
  it('NaN embedding', () => {
    const bad = matrixFromRows([[1, 0], [NaN, 1]]);
    expect(() => fn.compute(bad, [0, 1])).toThrow(/row 1, column 0 is NaN.*finite/);
  });
  it('infinite embedding', () => {
    expect(() => fn.compute(matrixFromRows([[1, Infinity], [0, 1]]), [0, 1])).toThrow(/row 0, column 1 is Infinity/);
  });
  it('mismatched label count', () => {
    expect(() => fn.compute(x, [0, 1])).toThrow(/labels: expected one label per embedding row \(6\), got 2/);
  });
  it('fewer than 2 rows', () => {
    expect(() => fn.compute(matrixFromRows([[1, 2]]), [0])).toThrow(/at least 2 rows.*got 1/);
  });
  it('non-numeric labels', () => {
    expect(() => fn.compute(x, ['a', 0, 1, 1, 2, 2])).toThrow(/label 0 is "a" \(string\); labels must be finite numbers/);
    expect(() => fn.compute(x, [0, NaN, 1, 1, 2, 2])).toThrow(/label 1 is .*NaN|label 1 is null/);
  });
  it('bad options', () => {
    expect(() => tripletLoss({ margin: -1 })).toThrow(/margin/);
    expect(() => tripletLoss({ miner: { name: 'nope' } as never })).toThrow(/miner/);
    expect(() => tripletLoss({ miner: { name: 'random' } })).toThrow(/needs an rng/);
  });
});

describe('tripletLoss: defaults and counting', () => {
  it('defaults are the FaceNet recipe', () => {
    const o = tripletLoss().options;
    expect(o).toMatchObject({ distance: 'euclidean', squared: true, normalize: true, margin: 0.2, loss: 'margin', reducer: 'avg-non-zero' });
    expect(o.miner).toEqual({ name: 'semi-hard', fallback: 'hardest', bounded: true, tfMasked: false });
  });

  it('a batch without usable triplets has loss 0, a zero gradient, and is counted', () => {
    const r = tripletLoss({ miner: { name: 'batch-hard' } }).compute(x, [0, 1, 2, 3, 4, 5]);
    expect(r.loss).toBe(0);
    expect(Array.from(r.grad!).every((g) => g === 0)).toBe(true);
    expect(r.counts).toMatchObject({ anchors_without_positive: 6, empty_batch: 1 });
  });

  it('anchors without negatives are dropped and counted', () => {
    const r = tripletLoss({ miner: { name: 'batch-hard' } }).compute(x, [0, 0, 0, 0, 0, 0]);
    expect(r.triplets.anchor.length).toBe(0);
    expect(r.counts.anchors_without_negative).toBe(6);
    expect(r.loss).toBe(0);
  });

  it('the ST semi-hard options give NaN without positive pairs, everything else 0', () => {
    const st = tripletLoss({ miner: { name: 'semi-hard', bounded: false, fallback: 'easiest', tfMasked: true }, reducer: 'mean', emptyBatch: 'nan' });
    expect(st.compute(x, [0, 1, 2, 3, 4, 5]).loss).toBeNaN();
    expect(tripletLoss({ reducer: 'mean' }).compute(x, [0, 1, 2, 3, 4, 5]).loss).toBe(0);
  });

  it('reducers: mean over all, mean over non-zero, sum', () => {
    const miner = { name: 'batch-all' } as const;
    const all = tripletLoss({ miner, reducer: 'sum', margin: 3 }).compute(x, labels);
    const nz = Array.from(all.losses).filter((l) => l > 0);
    expect(tripletLoss({ miner, reducer: 'mean', margin: 3 }).compute(x, labels).loss).toBeCloseTo(all.loss / all.losses.length, 14);
    expect(tripletLoss({ miner, reducer: 'avg-non-zero', margin: 3 }).compute(x, labels).loss).toBeCloseTo(all.loss / nz.length, 14);
  });

  it('cosine: a similarity matrix, gap = s_ap - s_an', () => {
    const r = tripletLoss({ distance: 'cosine', miner: { name: 'batch-all' } }).compute(x, labels, { grad: false });
    expect(r.distances.isSimilarity).toBe(true);
    expect(r.distances.value(0, 0)).toBeCloseTo(1, 14);
    expect(r.distances.gap(0, 1, 2)).toBeCloseTo(r.distances.value(0, 1) - r.distances.value(0, 2), 14);
  });

  it('float32 input gives float32 distances and gradient', () => {
    const r = tripletLoss().compute(matrixFromRows([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], 'float32'), [0, 0, 1, 1]);
    expect(r.grad).toBeInstanceOf(Float32Array);
    expect(r.distances.far).toBeInstanceOf(Float32Array);
  });

  it('the random miner replays exactly with the same seeded rng', () => {
    const seeded = (seed: number) => { let s = seed; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296); };
    const a = tripletLoss({ miner: { name: 'random' } }, { rng: seeded(7) }).compute(x, labels);
    const b = tripletLoss({ miner: { name: 'random' } }, { rng: seeded(7) }).compute(x, labels);
    expect(Array.from(a.triplets.negative)).toEqual(Array.from(b.triplets.negative));
    expect(a.triplets.anchor.length).toBe(6);
  });
});

describe('semi-hard fallback', () => {
  // anchor 0, positive 1 at squared distance 1; negatives at 4 (2) and 9 (3); margin 0.2: no semi-hard negative
  const line = matrixFromRows([[0], [1], [2], [3]]);
  const d = euclidean({ squared: true }).matrix(line);
  const lab = [0, 0, 1, 1];
  const pair = (t: { anchor: Int32Array; positive: Int32Array; negative: Int32Array }) =>
    Array.from(t.anchor, (a, i) => [a, t.positive[i], t.negative[i]]).filter(([a, p]) => a === 0 && p === 1);
  it('hardest: the nearest negative', () => expect(pair(semiHardMiner({ fallback: 'hardest' }).mine(d, lab))).toEqual([[0, 1, 2]]));
  it('easiest: the farthest negative', () => expect(pair(semiHardMiner({ fallback: 'easiest' }).mine(d, lab))).toEqual([[0, 1, 3]]));
  it('skip: nothing, counted', () => {
    const t = semiHardMiner({ fallback: 'skip' }).mine(d, lab);
    expect(pair(t)).toEqual([]);
    expect(t.counts.pairs_skipped).toBeGreaterThan(0);
  });
  it('a semi-hard negative inside (d_ap, d_ap + α) wins', () => {
    const dd = euclidean({ squared: false }).matrix(matrixFromRows([[0], [1], [1.1], [3]]));
    expect(pair(semiHardMiner({ margin: 0.2 }).mine(dd, lab))).toEqual([[0, 1, 2]]);
  });
  it('batch-hard ties go to the lowest index', () => {
    const dd = euclidean().matrix(matrixFromRows([[0], [1], [-1], [2], [2]]));
    const t = batchHardMiner().mine(dd, [0, 0, 0, 1, 1]);
    expect([t.anchor[0], t.positive[0], t.negative[0]]).toEqual([0, 1, 3]);
  });
});
