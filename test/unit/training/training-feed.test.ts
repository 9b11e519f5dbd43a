import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrainingFeed, type FeedState, type TrainingFeedOptions } from '../../../pipeline/training/training-feed.js';
import { testContext } from '../../helpers/test-context.js';

const fixtures = join(import.meta.dirname, '../../fixtures');

const options = (inputs: string[], window: number): TrainingFeedOptions => ({
  data: { inputs, shuffleWindow: window, interleave: 2, maxLength: 16},
  balance: { schedule: '0:4x3,30:3x4' },
});

async function batches(feed: TrainingFeed, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = await feed.next();
    out.push(`${b.epoch}:${b.ids.join(',')}`);
  }
  return out;
}

describe('TrainingFeed', () => {
  for (const [name, inputs, window] of [
    ['JSONL, window 50', [join(fixtures, 'small-corpus.jsonl')], 50],
    ['parquet, window 1', [join(fixtures, 'small-corpus.parquet')], 1],
    ['JSONL + parquet, window 300', [join(fixtures, 'small-corpus.jsonl'), join(fixtures, 'small-corpus.parquet')], 300],
  ] as const) {
    it(`a feed restored from a snapshot gives the same batches and counts as one that ran on (${name})`, async () => {
      const total = 70;
      const ctx = testContext({ seed: 5 });
      const feed = await TrainingFeed.open(ctx, options([...inputs], window));
      const full = await batches(feed, total);
      await feed.close();
      const epochs = new Set(full.map((b) => b.split(':')[0]));
      expect(epochs.size).toBeGreaterThan(1);
      for (const stopAt of [0, 1, 13, 24, 25, 26, 41, total - 1]) {
        const c1 = testContext({ seed: 5 });
        const f1 = await TrainingFeed.open(c1, options([...inputs], window));
        const head = await batches(f1, stopAt);
        const state = JSON.parse(JSON.stringify(f1.snapshot())) as FeedState;
        const counters = c1.counters.snapshot();
        const quarantine = c1.quarantine.state();
        await f1.close();
        const c2 = testContext({ seed: 5 });
        c2.counters.restore(counters);
        c2.quarantine.resume(quarantine);
        const f2 = await TrainingFeed.open(c2, options([...inputs], window), state);
        const tail = await batches(f2, total - stopAt);
        await f2.close();
        expect([...head, ...tail], `stop at ${stopAt}`).toEqual(full);
        expect(c2.counters.get('read.records'), `stop at ${stopAt}`).toBe(ctx.counters.get('read.records'));
        expect(c2.quarantine.counts(), `stop at ${stopAt}`).toEqual(ctx.quarantine.counts());
      }
    });
  }

  it('quarantines bad records with their reasons, and every record read is batched, waiting or quarantined', async () => {
    const ctx = testContext({ seed: 1 });
    const feed = await TrainingFeed.open(ctx, options([join(fixtures, 'small-corpus.jsonl')], 50));
    const seen = new Set<string>();
    let out = 0;
    for (let i = 0; i < 10; i++) {
      const b = await feed.next();
      expect(b.epoch).toBe(0);
      for (const id of b.ids) seen.add(id);
      out += b.ids.length;
    }
    expect(seen.size).toBe(out);
    expect(ctx.quarantine.count()).toBeGreaterThan(0);
    const st = feed.snapshot();
    const waiting = st.balancer.classes.reduce((n, c) => n + c.ids.length, 0);
    expect(ctx.counters.get('read.records')).toBe(out + waiting + st.shuffle.items.length + ctx.quarantine.count());
    await feed.close();
  });
});
