import { describe, expect, it } from 'vitest';
import { CollapseDetector } from '../../../pipeline/training/collapse-detector.js';

describe('CollapseDetector', () => {
  it('fires once, after the hardest loss has sat at the margin for the whole window', () => {
    const d = new CollapseDetector({ margin: 0.2, window: 5 });
    const fired = [0.5, 0.2001, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2].map((h, i) => d.observe(i, h, 1.0));
    expect(fired).toEqual([false, false, false, false, false, true, false, false]);
    expect(d.fired).toBe(5);
  });

  it('fires when the spread collapses even if the loss is not at the margin', () => {
    const d = new CollapseDetector({ margin: 0.2, window: 3, minSpread: 0.01 });
    expect([0.001, 0.001, 0.001].map((s, i) => d.observe(i, 0.5, s))).toEqual([false, false, true]);
  });

  it('a healthy step resets the window', () => {
    const d = new CollapseDetector({ margin: 0.2, window: 3 });
    for (const [i, h] of [0.2, 0.2, 0.1, 0.2, 0.2].entries()) d.observe(i, h, 1);
    expect(d.fired).toBeUndefined();
  });
});
