import { describe, expect, it } from 'vitest';
import { fromFloat16Bits, packFeatures, toFloat16Bits, unpackFeatures } from '../../../stages/metric/float16.js';

describe('float16', () => {
  it('encodes known values (IEEE 754 binary16)', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
      [-Infinity, 0xfc00], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -26, 0x0000], [0.1, 0x2e66], [1 / 3, 0x3555],
    ];
    for (const [x, h] of cases) expect(toFloat16Bits(x), String(x)).toBe(h);
    expect(toFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN)))).toBe(true);
  });

  it('every half value survives a round trip through float32 and back', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue;
      if (toFloat16Bits(fromFloat16Bits(h)) !== h) throw new Error(`half 0x${h.toString(16)} does not round-trip`);
    }
  });

  it('rounds to the nearest half, ties to even, normal and subnormal', () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1); 1 + 3·2^-11 goes up to 1 + 2^-9
    expect(fromFloat16Bits(toFloat16Bits(1 + 2 ** -11))).toBe(1);
    expect(fromFloat16Bits(toFloat16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 * 2 ** -10);
    expect(toFloat16Bits(1.5 * 2 ** -24)).toBe(0x0002);
    expect(toFloat16Bits(2.5 * 2 ** -24)).toBe(0x0002);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 8;
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = Math.fround(rnd());
      const y = fromFloat16Bits(toFloat16Bits(x));
      // half a unit in the last place: 2^-11 relative for normal values (2^-25 absolute below 2^-14)
      worst = Math.max(worst, Math.abs(y - x) / Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('packs vectors as little-endian bytes and unpacks them (float32 exact, float16 within 2^-11)', () => {
    const v = Float32Array.from([1, -2.5, 0.1, 3.14159, -0.000123, 0]);
    const b32 = packFeatures(v, 'float32');
    const b16 = packFeatures(v, 'float16');
    expect(b32.length).toBe(24);
    expect(b16.length).toBe(12);
    expect(Array.from(b16.subarray(0, 2))).toEqual([0x00, 0x3c]);
    expect(unpackFeatures(b32, 'float32')).toEqual(v);
    const back = unpackFeatures(b16, 'float16');
    v.forEach((x, i) => expect(Math.abs((back[i] as number) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 1e-7));
    // a view at an odd offset decodes the same (parquet pages hand out unaligned views)
    const shifted = new Uint8Array(b32.length + 1);
    shifted.set(b32, 1);
    expect(unpackFeatures(shifted.subarray(1), 'float32')).toEqual(v);
  });
});
