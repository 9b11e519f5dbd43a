import type { FeatureDtype } from '../../schemas/feature-cache.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
let table: Float32Array | undefined;

/** IEEE 754 binary16 bits of `x`, rounded to nearest, ties to even; overflow gives ±Infinity, NaN stays NaN. */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // subnormal: the implicit leading 1 becomes explicit, then shifts into the 10-bit field
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // a carry out of the mantissa correctly bumps the exponent (up to Infinity)
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** The value of binary16 bits `h` (exact). */
export function fromFloat16Bits(h: number): number {
  return (table ??= buildTable())[h & 0xffff] as number;
}

function buildTable(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
}

/** A vector as little-endian bytes of `dtype`: 2 or 4 bytes per value. */
export function packFeatures(v: Float32Array, dtype: FeatureDtype): Uint8Array {
  if (dtype === 'float32') {
    const out = new Uint8Array(v.length * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < v.length; i++) dv.setFloat32(i * 4, v[i] as number, true);
    return out;
  }
  const out = new Uint8Array(v.length * 2);
  for (let i = 0; i < v.length; i++) {
    const h = toFloat16Bits(v[i] as number);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** The vector `packFeatures` wrote: `bytes` must hold exactly dim × 2 or 4 bytes. */
export function unpackFeatures(bytes: Uint8Array, dtype: FeatureDtype): Float32Array {
  if (dtype === 'float32') {
    const out = new Float32Array(bytes.length >>> 2);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  const t = (table ??= buildTable());
  const out = new Float32Array(bytes.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = t[(bytes[2 * i] as number) | ((bytes[2 * i + 1] as number) << 8)] as number;
  return out;
}
