import { describe, expect, it } from 'vitest';
import { matrixFromRows } from '../../../stages/metric/matrix.js';
import { retrievalMetrics } from '../../../stages/metric/retrieval/retrieval-metrics.js';

describe('retrievalMetrics (Musgrave et al. 2020)', () => {
  it('query = reference: self excluded by index, hand-computed values', () => {
    // points on a line (no normalisation): labels a a b a b
    const q = matrixFromRows([[0], [1], [2], [3], [4]]);
    const m = retrievalMetrics({ query: q, queryLabels: [0, 0, 1, 0, 1], normalize: false });
    // q0: ranks 1(a),2(b),3(a),4(b); R=2: P@1=1, R-prec 1/2, AP@R (1/1)/2 = 0.5
    // q1: ranks 0|2 tie -> 0(a) first by index, then 2(b), 3(a); R=2: P@1 1, Rp 1/2, AP 0.5
    // q2: ranks 1|3 tie -> 1(a), 3(a), 4(b)... R=1: P@1 0, Rp 0, AP 0
    // q3: ranks 2|4 tie -> 2(b), 4(b), 1(a), 0(a); R=2: 0, 0, 0
    // q4: ranks 3(a), 2(b); R=1: 0, 0... wait label of 2 is b: q4 label b, R=1: 3(a) miss -> 0
    expect(m.numQueries).toBe(5);
    expect(m.precision_at_1).toBeCloseTo(2 / 5, 15);
    expect(m.r_precision).toBeCloseTo((0.5 + 0.5) / 5, 15);
    expect(m.mean_average_precision_at_r).toBeCloseTo((0.5 + 0.5) / 5, 15);
  });

  it('excludes queries whose label has no other reference item', () => {
    const q = matrixFromRows([[0], [1], [5]]);
    const m = retrievalMetrics({ query: q, queryLabels: [0, 0, 1], normalize: false });
    expect(m.numExcluded).toBe(1);
    expect(m.numQueries).toBe(2);
    expect(m.precision_at_1).toBe(1);
  });

  it('separate query and reference sets', () => {
    const m = retrievalMetrics({
      query: matrixFromRows([[0], [10]]), queryLabels: [0, 9],
      reference: matrixFromRows([[1], [2], [3]]), referenceLabels: [1, 0, 0],
      normalize: false,
    });
    // q0: refs by distance 1(l1), 2(l0), 3(l0); R=2: P@1 0, Rp 1/2, AP (1/2)/2 = 0.25; q1 excluded (label 9 absent)
    expect(m).toMatchObject({ precision_at_1: 0, r_precision: 0.5, mean_average_precision_at_r: 0.25, numQueries: 1, numExcluded: 1 });
  });

  it('bad input names the problem', () => {
    expect(() => retrievalMetrics({ query: matrixFromRows([[0], [1]]), queryLabels: [0] })).toThrow(/labels/);
    expect(() => retrievalMetrics({ query: matrixFromRows([[0], [1]]), queryLabels: [0, 0], reference: matrixFromRows([[0], [1]]) })).toThrow(/referenceLabels/);
  });
});
