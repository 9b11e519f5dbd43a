import _ from 'highland';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { shuffleWindow } from '../../../stages/shuffle-window.js';
import { collect } from '../../helpers/collect.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';

const range = (n: number) => Array.from({ length: n }, (_v, i) => i);

describe('shuffle-window', () => {
  stageContract('shuffle-window', {
    make: (ctx) => shuffleWindow<number>(ctx, { windowSize: 16 }),
    sample: range(100),
    oneToOne: true,
    readAheadBound: 16,
  });

  test.prop([fc.array(fc.integer(), { maxLength: 300 }), fc.integer({ min: 1, max: 64 }), fc.nat()])(
    'is a permutation of its input',
    async (xs, windowSize, seed) => {
      const out = await collect(shuffleWindow<number>(testContext({ seed }), { windowSize })(_(xs.slice())));
      expect([...out].sort((a, b) => a - b)).toEqual([...xs].sort((a, b) => a - b));
    },
  );

  it('gives the same order for the same seed and epoch, another for another seed or epoch', async () => {
    const run = (seed: number, epoch: number) =>
      collect(shuffleWindow<number>(testContext({ seed }), { windowSize: 50, epoch })(_(range(500))));
    const a = await run(7, 0);
    expect(await run(7, 0)).toEqual(a);
    expect(await run(8, 0)).not.toEqual(a);
    expect(await run(7, 1)).not.toEqual(a);
    expect(a).not.toEqual(range(500));
  });

  it('with windowSize 1 keeps the input order', async () => {
    expect(await collect(shuffleWindow<number>(testContext(), { windowSize: 1 })(_(range(20))))).toEqual(range(20));
  });

  it('rejects a window below 1 with a message that says how to disable shuffling', () => {
    expect(() => shuffleWindow(testContext(), { windowSize: 0 })).toThrow(/windowSize.*>= 1.*use 1 to disable/);
  });
});
