import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { minMaxIndices, pointsPerSeries, seriesPoints } from '../../../pipeline/report/downsample.js';

function argExtremes(ys: ArrayLike<number>): { min: number; max: number } {
  let min = -1;
  let max = -1;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i] as number;
    if (!Number.isFinite(y)) continue;
    if (min < 0 || y < (ys[min] as number)) min = i;
    if (max < 0 || y > (ys[max] as number)) max = i;
  }
  return { min, max };
}

describe('minMaxIndices', () => {
  it('keeps every point of a short series', () => {
    expect(minMaxIndices([3, 1, 2], 10)).toEqual([0, 1, 2]);
  });

  it('a 1M-point series with two spikes: at most 2,000 points, first and last kept, both spikes kept', () => {
    const n = 1_000_000;
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) ys[i] = Math.sin(i / 5000) + 0.001 * (i % 7);
    ys[123_457] = 50;
    ys[876_543] = -50;
    const idx = minMaxIndices(ys, 2000);
    expect(idx.length).toBeLessThanOrEqual(2000);
    expect(idx.length).toBeGreaterThan(1900);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(n - 1);
    expect(idx).toContain(123_457);
    expect(idx).toContain(876_543);
    // the envelope survives: the sine's peaks and troughs are still there
    const kept = idx.map((i) => ys[i] as number).filter((y) => Math.abs(y) < 10);
    expect(Math.max(...kept)).toBeGreaterThan(0.99);
    expect(Math.min(...kept)).toBeLessThan(-0.99);
  });

  it('leaves out non-finite values and honours the [from, to) range', () => {
    const ys = [Number.NaN, 1, 5, Number.NaN, 2, 9, 0, 4];
    expect(minMaxIndices(ys, 100)).toEqual([1, 2, 4, 5, 6, 7]);
    expect(minMaxIndices(ys, 100, 2, 5)).toEqual([2, 4]);
    expect(minMaxIndices([Number.NaN, Number.NaN], 10)).toEqual([]);
  });

  it('rejects maxPoints < 4', () => {
    expect(() => minMaxIndices([1, 2, 3], 3)).toThrow(/maxPoints must be >= 4/);
  });

  test.prop([fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(Number.NaN)), { maxLength: 400 }), fc.integer({ min: 4, max: 64 })])(
    'any series: strictly increasing finite indices, within maxPoints, first/last finite and the global extremes kept',
    (ys, maxPoints) => {
      const idx = minMaxIndices(ys, maxPoints);
      expect(idx.length).toBeLessThanOrEqual(maxPoints);
      for (let k = 1; k < idx.length; k++) expect(idx[k] as number).toBeGreaterThan(idx[k - 1] as number);
      for (const i of idx) expect(Number.isFinite(ys[i] as number)).toBe(true);
      const finite = ys.flatMap((y, i) => (Number.isFinite(y) ? [i] : []));
      if (finite.length === 0) {
        expect(idx).toEqual([]);
        return;
      }
      expect(idx[0]).toBe(finite[0]);
      expect(idx.at(-1)).toBe(finite.at(-1));
      const { min, max } = argExtremes(ys);
      expect(idx.map((i) => ys[i])).toContain(ys[min]);
      expect(idx.map((i) => ys[i])).toContain(ys[max]);
    },
  );
});

describe('seriesPoints', () => {
  it('pairs steps with values at the kept indices', () => {
    expect(seriesPoints([0, 10, 20], [1, Number.NaN, 3])).toEqual([[0, 1], [20, 3]]);
  });
});

describe('pointsPerSeries', () => {
  it('2,000 for up to 4 series, then an even share of 8,000, never under 500', () => {
    expect([1, 4, 5, 12, 16, 40].map(pointsPerSeries)).toEqual([2000, 2000, 1600, 666, 500, 500]);
  });
});
