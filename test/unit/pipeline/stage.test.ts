import _ from 'highland';
import { describe, expect, it } from 'vitest';
import { compose, drain, fromAsyncIterable, Graph, named, type Stage } from '../../../pipeline/stage.js';
import { collect } from '../../helpers/collect.js';

const double: Stage<number, number> = named('double', (s) => s.map((x) => x * 2));
const show: Stage<number, string> = named('show', (s) => s.map((x) => `#${x}`));

describe('stage engine', () => {
  it('composes stages left to right and names the composition', async () => {
    const both = compose(double, show);
    expect(both.stageName).toBe('double → show');
    expect(await collect(both(_([1, 2])))).toEqual(['#2', '#4']);
  });

  it('builds a graph without running it, describes it, and replays its source', async () => {
    let opened = 0;
    const source = named('numbers', () => { opened++; return _([1, 2, 3]); });
    const g = Graph.from(source).through(double).through(named('my-filter', (s: Highland.Stream<number>) => s.filter((x) => x > 2))).through(show);
    expect(opened).toBe(0);
    expect(g.describe()).toBe('numbers → double → my-filter → show');
    expect(await collect(g.stream())).toEqual(['#4', '#6']);
    expect(await g.run(drain())).toBe(2);
    expect(opened).toBe(2);
  });

  it('fromAsyncIterable pulls lazily and closes the iterator when the stream is destroyed', async () => {
    let produced = 0;
    let closed = false;
    async function* gen() {
      try {
        for (let i = 0; i < 1000; i++) { produced++; yield i; }
      } finally { closed = true; }
    }
    const s = fromAsyncIterable(() => gen());
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => s.pull(() => r()));
    await new Promise((r) => setTimeout(r, 10));
    expect(produced).toBeLessThanOrEqual(4);
    s.destroy();
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(true);
  });

  it('fromAsyncIterable turns a thrown error into one stream error and ends', async () => {
    async function* gen() { yield 1; throw new Error('broken shard'); }
    await expect(collect(fromAsyncIterable(() => gen()))).rejects.toThrow('broken shard');
  });
});
