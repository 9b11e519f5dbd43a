import _ from 'highland';
import { describe, expect, it } from 'vitest';
import { parallelMap } from '../../../pipeline/parallel-map.js';
import { collect, collectAll } from '../../helpers/collect.js';
import { countingSource } from '../../helpers/jittered-source.js';
import { stageContract } from '../../helpers/stage-contract.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('parallelMap', () => {
  stageContract('parallel-map', {
    make: () => parallelMap(3, async (x: number) => { await delay((x * 7) % 5); return x * 2; }),
    sample: Array.from({ length: 40 }, (_v, i) => i),
    oneToOne: true,
    readAheadBound: 3,
  });

  it('keeps input order when later items finish first', async () => {
    const out = await collect(parallelMap(4, async (x: number) => { await delay(20 - x); return x; })(_([0, 1, 2, 3, 4, 5])));
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('runs up to `concurrency` tasks at once and never more', async () => {
    let running = 0;
    let peak = 0;
    await collect(parallelMap(3, async (x: number) => {
      running++;
      peak = Math.max(peak, running);
      await delay(5);
      running--;
      return x;
    })(_(Array.from({ length: 20 }, (_v, i) => i))));
    expect(peak).toBe(3);
  });

  it('never reads further ahead than its concurrency', async () => {
    const { stream, pulled } = countingSource(Array.from({ length: 100 }, (_v, i) => i));
    const out = parallelMap(5, async (x: number) => x)(stream);
    await new Promise<void>((r) => out.pull(() => r()));
    await delay(20);
    expect(pulled()).toBeLessThanOrEqual(6);
  });

  it('turns a rejected task into a stream error in its place', async () => {
    const got = await collectAll(parallelMap(2, async (x: number) => {
      if (x === 1) throw new Error('bad 1');
      return x;
    })(_([0, 1, 2])));
    expect(got.map((g) => ('error' in g ? (g.error as Error).message : g.value))).toEqual([0, 'bad 1', 2]);
  });

  it('turns a synchronous throw in fn into a stream error in its place (no hang)', async () => {
    const got = await collectAll(parallelMap(2, (x: number) => {
      if (x === 1) throw new Error('sync 1');
      return Promise.resolve(x);
    })(_([0, 1, 2])));
    expect(got.map((g) => ('error' in g ? (g.error as Error).message : g.value))).toEqual([0, 'sync 1', 2]);
  });

  it('rejects a concurrency below 1', () => {
    expect(() => parallelMap(0, async (x: number) => x)).toThrow(/concurrency must be an integer >= 1 \(got 0\)/);
  });
});
