import { describe, expect, it } from 'vitest';
import { Rng } from '../../../pipeline/rng.js';

describe('Rng', () => {
  it('is deterministic per seed and name, and differs across names', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(Rng.derive(1, 'x')));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(Rng.derive(1, 'x')));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextUint32())(Rng.derive(1, 'y')));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('resumes the same sequence from a saved state', () => {
    const r = Rng.derive(3, 'resume');
    for (let i = 0; i < 10; i++) r.next();
    const copy = new Rng(r.state());
    expect(Array.from({ length: 5 }, () => copy.next())).toEqual(Array.from({ length: 5 }, () => r.next()));
  });

  it('draws integers uniformly enough in range', () => {
    const r = Rng.derive(0, 'uniform');
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
  });
});
