import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { it } from '@fast-check/vitest';
import { cosine } from '../../../stages/metric/distances/cosine.js';
import type { Distance } from '../../../stages/metric/distances/distance.js';
import { euclidean } from '../../../stages/metric/distances/euclidean.js';
import { l2Normalize, type Matrix } from '../../../stages/metric/matrix.js';
import {
  batchAllMiner, batchHardMiner, hardNegativeMiner, randomMiner, semiHardMiner, thresholdMiner,
} from '../../../stages/metric/miners/index.js';
import { isValidTriplet } from '../../../stages/metric/triplets.js';
import {
  asRows, bruteAll, bruteBatchHard, bruteHardNegative, bruteSemiHard, bruteThreshold, sortRows,
} from '../../helpers/triplet-oracle.js';

/** Small batches; values on a coarse grid half the time so exact ties (the hard part of mining) are common. */
const batchArb = fc
  .record({
    b: fc.integer({ min: 2, max: 9 }),
    d: fc.integer({ min: 1, max: 4 }),
    classes: fc.integer({ min: 1, max: 4 }),
    grid: fc.boolean(),
    seed: fc.integer(),
  })
  .chain(({ b, d, classes, grid }) =>
    fc.record({
      x: fc.array(
        grid ? fc.integer({ min: -3, max: 3 }).map((v) => v / 2) : fc.double({ min: -2, max: 2, noNaN: true }),
        { minLength: b * d, maxLength: b * d },
      ),
      labels: fc.array(fc.integer({ min: 0, max: classes - 1 }), { minLength: b, maxLength: b }),
      b: fc.constant(b),
      d: fc.constant(d),
    }));

const distanceArb = fc.constantFrom<[string, Distance]>(
  ['squared', euclidean({ squared: true })],
  ['euclidean', euclidean({ squared: false })],
  ['cosine', cosine()],
);
const marginArb = fc.constantFrom(0, 0.1, 0.2, 0.5, 1);

function matrixOf(x: number[], b: number, d: number, normalize: boolean): Matrix {
  const m = { data: Float64Array.from(x), rows: b, cols: d };
  return normalize ? l2Normalize(m).y : m;
}

describe('miners equal brute-force enumeration (test/helpers/triplet-oracle.ts)', () => {
  it.prop([batchArb, distanceArb, marginArb, fc.constantFrom('hardest', 'easiest', 'skip' as const), fc.boolean()], { numRuns: 300 })(
    'semi-hard', ({ x, labels, b, d }, [name, dist], margin, fallback, bounded) => {
      const dm = dist.matrix(matrixOf(x, b, d, name === 'cosine'));
      const got = asRows(semiHardMiner({ margin, fallback, bounded }).mine(dm, labels));
      expect(got).toEqual(sortRows(bruteSemiHard(dm, labels, margin, fallback, bounded)));
    });

  it.prop([batchArb, distanceArb], { numRuns: 200 })('hard-negative', ({ x, labels, b, d }, [name, dist]) => {
    const dm = dist.matrix(matrixOf(x, b, d, name === 'cosine'));
    expect(asRows(hardNegativeMiner().mine(dm, labels))).toEqual(sortRows(bruteHardNegative(dm, labels)));
  });

  it.prop([batchArb, distanceArb, fc.constantFrom('hardest', 'easiest' as const), fc.constantFrom('hardest', 'semi-hard' as const)], { numRuns: 300 })(
    'batch-hard (all positive/negative strategies)', ({ x, labels, b, d }, [name, dist], positive, negative) => {
      const dm = dist.matrix(matrixOf(x, b, d, name === 'cosine'));
      expect(asRows(batchHardMiner({ positive, negative }).mine(dm, labels))).toEqual(sortRows(bruteBatchHard(dm, labels, positive, negative)));
    });

  it.prop([batchArb, distanceArb], { numRuns: 100 })('batch-all', ({ x, labels, b, d }, [name, dist]) => {
    const dm = dist.matrix(matrixOf(x, b, d, name === 'cosine'));
    expect(asRows(batchAllMiner().mine(dm, labels))).toEqual(bruteAll(dm, labels));
  });

  it.prop([batchArb, distanceArb, marginArb, fc.constantFrom('all', 'hard', 'semihard', 'easy' as const)], { numRuns: 300 })(
    'threshold (PML TripletMarginMiner)', ({ x, labels, b, d }, [name, dist], margin, type) => {
      const dm = dist.matrix(matrixOf(x, b, d, name === 'cosine'));
      expect(asRows(thresholdMiner({ type, margin }).mine(dm, labels))).toEqual(bruteThreshold(dm, labels, type, margin));
    });
});

describe('every mined triplet is valid', () => {
  it.prop([batchArb, distanceArb, marginArb, fc.integer()], { numRuns: 300 })(
    'label[a] = label[p] != label[n], a != p, indices in range', ({ x, labels, b, d }, [name, dist], margin, seed) => {
      const dm = dist.matrix(matrixOf(x, b, d, name === 'cosine'));
      let s = seed >>> 0;
      const rng = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
      const miners = [
        semiHardMiner({ margin }), semiHardMiner({ margin, fallback: 'easiest', bounded: false }), hardNegativeMiner(),
        batchHardMiner(), batchHardMiner({ positive: 'easiest', negative: 'semi-hard' }), batchAllMiner(),
        thresholdMiner({ type: 'all', margin }), thresholdMiner({ type: 'easy', margin }), randomMiner({ rng }),
      ];
      for (const m of miners) {
        const t = m.mine(dm, labels);
        expect(t.anchor.length).toBe(t.positive.length);
        expect(t.anchor.length).toBe(t.negative.length);
        for (let k = 0; k < t.anchor.length; k++) {
          expect(isValidTriplet(labels, t.anchor[k] as number, t.positive[k] as number, t.negative[k] as number), `${m.name} triplet ${k}`).toBe(true);
        }
      }
    });
});
