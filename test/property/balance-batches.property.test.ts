import _ from 'highland';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../pipeline/rng.js';
import type { Batch } from '../../schemas/batch.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import type { BatchBalancerOptions } from '../../stages/balance/batch-balancer.js';
import { balanceBatches } from '../../stages/balance-batches.js';
import { collect } from '../helpers/collect.js';
import { testContext } from '../helpers/test-context.js';
import { classCounts, docsWithLabels, generatedDocs } from '../helpers/tokenized-docs.js';

const configArb = fc.record({
  counts: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 14 }),
  P: fc.integer({ min: 1, max: 6 }),
  K: fc.integer({ min: 1, max: 5 }),
  extraCapacity: fc.integer({ min: 0, max: 60 }),
  shortage: fc.constantFrom('fewer-classes' as const, 'skip' as const, 'reuse' as const),
  choose: fc.constantFrom('uniform' as const, 'weighted' as const),
  atEpochEnd: fc.constantFrom('carry' as const, 'quarantine' as const),
  maxWait: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
  seed: fc.nat(),
});
type Config = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

const optionsOf = (c: Config): BatchBalancerOptions => ({
  classesPerBatch: c.P,
  samplesPerClass: c.K,
  poolCapacity: c.P * c.K + c.extraCapacity,
  shortage: c.shortage,
  choose: c.choose,
  atEpochEnd: c.atEpochEnd,
  ...(c.maxWait !== undefined ? { maxWaitRecords: c.maxWait } : {}),
});

async function runOnce(c: Config, docs: readonly TokenizedDoc[]) {
  const ctx = testContext({ seed: c.seed });
  const stage = balanceBatches(ctx, optionsOf(c));
  const batches = await collect(stage(_(docs.slice())));
  return { ctx, stage, batches };
}

/** Full batches: P distinct labels × K each; short ones: fewer classes, K each; grouped by class. */
function checkShape(b: Batch, minClasses: number): void {
  const { classesPerBatch: P, samplesPerClass: K } = b.phase;
  const distinct = new Set(b.labels).size;
  expect(b.docs.length).toBe(distinct * K);
  if (b.stats.full) expect(distinct).toBe(P);
  else {
    expect(distinct).toBeLessThan(P);
    expect(distinct).toBeGreaterThanOrEqual(Math.min(minClasses, P));
  }
  const per = new Map<string, number>();
  for (const l of b.labels) per.set(l, (per.get(l) ?? 0) + 1);
  for (const n of per.values()) expect(n).toBe(K);
}

describe('balance-batches properties', () => {
  test.prop([configArb], { numRuns: 150 })('batch shape, no duplicates without reuse, accounting, pool bound', async (c) => {
    const docs = docsWithLabels(classCounts(c.counts, c.seed));
    const { ctx, stage, batches } = await runOnce(c, docs);
    for (const b of batches) checkShape(b, 2);
    const ids = batches.flatMap((b) => b.ids);
    const st = stage.balancer.stats();
    if (c.shortage !== 'reuse') {
      expect(new Set(ids).size).toBe(ids.length);
      expect(st.reused).toBe(0);
    }
    // records in = records in batches (first use) + carried + quarantined
    expect(ids.length - st.reused + st.carried + ctx.quarantine.count()).toBe(docs.length);
    expect(st.recordsBatched).toBe(ids.length - st.reused);
    expect(st.carried).toBe(c.atEpochEnd === 'carry' ? stage.balancer.poolRecords : 0);
    expect(st.maxPoolRecords).toBeLessThanOrEqual(c.P * c.K + c.extraCapacity);
    expect(batches.map((b) => b.step)).toEqual(batches.map((_b, i) => i));
  });

  test.prop([configArb], { numRuns: 60 })('same seed gives identical batches', async (c) => {
    const docs = docsWithLabels(classCounts(c.counts, c.seed));
    const a = (await runOnce(c, docs)).batches.map((b) => b.ids);
    const b = (await runOnce(c, docs)).batches.map((x) => x.ids);
    expect(b).toEqual(a);
  });

  test.prop([configArb], { numRuns: 60 })('over epochs with carry, no record twice in an epoch and every record accounted for', async (c) => {
    const docs = docsWithLabels(classCounts(c.counts, c.seed));
    const ctx = testContext({ seed: c.seed });
    const stage = balanceBatches(ctx, { ...optionsOf(c), atEpochEnd: 'carry' });
    for (let e = 0; e < 3; e++) {
      const epochDocs = Rng.derive(c.seed, `epoch-${e}`).shuffle(docs.slice());
      const batches = await collect(stage(_(epochDocs)));
      expect(batches.every((b) => b.epoch === e)).toBe(true);
      if (c.shortage !== 'reuse') {
        const ids = batches.flatMap((b) => b.ids);
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
    const st = stage.balancer.stats();
    expect(st.recordsIn).toBe(3 * docs.length);
    expect(st.recordsBatched + st.quarantinedTotal + st.poolRecords + st.carriedDuplicates).toBe(3 * docs.length);
    stage.balancer.finish();
    expect(stage.balancer.poolRecords).toBe(0);
  });

  test.prop([fc.integer({ min: 1, max: 4 }), fc.nat()], { numRuns: 4 })(
    'a skewed stream (90 % one class + Zipf tail of 10,000 classes) keeps the pools within their bound',
    async (variant, seed) => {
      const poolCapacity = [2_000, 4_000, 8_000, 16_000][variant - 1] as number;
      const ctx = testContext({ seed });
      const stage = balanceBatches(ctx, { classesPerBatch: 50, samplesPerClass: 4, poolCapacity });
      const records = 40_000;
      let maxSeen = 0;
      const batches = await collect(
        stage(generatedDocs({ records, classes: 10_000, headShare: 0.9, seed }).tap(() => {
          maxSeen = Math.max(maxSeen, stage.balancer.poolRecords);
        })),
      );
      const st = stage.balancer.stats();
      expect(maxSeen).toBeLessThanOrEqual(poolCapacity);
      expect(st.maxPoolRecords).toBeLessThanOrEqual(poolCapacity);
      expect(batches.length).toBeGreaterThan(0);
      for (const b of batches) checkShape(b, 2);
      expect(st.recordsBatched + ctx.quarantine.count()).toBe(records);
    },
  );

  it('P larger than the classes, K larger than every class, one class: each ends, every record accounted for', async () => {
    const cases: [number[], number, number][] = [[[10, 10], 5, 2], [[3, 4, 2], 2, 6], [[40], 2, 3], [[], 2, 2]];
    for (const [counts, P, K] of cases) {
      for (const shortage of ['fewer-classes', 'skip', 'reuse'] as const) {
        const docs = docsWithLabels(classCounts(counts));
        const ctx = testContext();
        const stage = balanceBatches(ctx, { classesPerBatch: P, samplesPerClass: K, poolCapacity: P * K * 2, shortage });
        const batches = await collect(stage(_(docs)));
        const st = stage.balancer.stats();
        expect(batches.flatMap((b) => b.ids).length - st.reused + ctx.quarantine.count()).toBe(docs.length);
      }
    }
  });
});
