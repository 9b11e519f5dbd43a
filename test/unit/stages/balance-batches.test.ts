import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import _ from 'highland';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../pipeline/errors.js';
import { Rng } from '../../../pipeline/rng.js';
import type { Batch } from '../../../schemas/batch.js';
import { BatchSchema } from '../../../schemas/batch.js';
import { formatBatchSchedule, parseBatchSchedule, phaseAt } from '../../../schemas/batch-schedule.js';
import type { TokenizedDoc } from '../../../schemas/tokenized-doc.js';
import { BatchBalancer, type BatchBalancerOptions } from '../../../stages/balance/batch-balancer.js';
import { balanceBatches } from '../../../stages/balance-batches.js';
import { runBatches, type BatchLine } from '../../../pipeline/batches.js';
import { silentLogger } from '../../../pipeline/logger.js';
import { collect, collectAll } from '../../helpers/collect.js';
import { countingSource } from '../../helpers/jittered-source.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';
import { classCounts, docsWithLabels, generatedDocs } from '../../helpers/tokenized-docs.js';

const run = async (docs: readonly TokenizedDoc[], opts: BatchBalancerOptions, seed = 1) => {
  const ctx = testContext({ seed });
  const stage = balanceBatches(ctx, opts);
  const batches = await collect(stage(_(docs.slice())));
  return { ctx, stage, batches, stats: stage.balancer.stats() };
};

/** Asserts a full batch: P distinct labels, K of each, grouped by class, consistent arrays. */
function expectWellFormed(b: Batch): void {
  const { classesPerBatch: P, samplesPerClass: K } = b.phase;
  const groups = b.stats.classes;
  expect(b.docs.length).toBe(groups * K);
  if (b.stats.full) expect(groups).toBe(P);
  else expect(groups).toBeLessThan(P);
  expect(new Set(b.labels).size).toBe(groups);
  for (let g = 0; g < groups; g++) {
    const lab = b.labels[g * K];
    for (let i = 0; i < K; i++) {
      expect(b.labels[g * K + i]).toBe(lab);
      expect(b.classIndex[g * K + i]).toBe(g);
      expect(b.docs[g * K + i]?.label).toBe(lab);
      expect(b.ids[g * K + i]).toBe(b.docs[g * K + i]?.id);
    }
  }
  expect(() => BatchSchema.parse(b)).not.toThrow();
}

const sixClasses = docsWithLabels(classCounts([12, 10, 9, 8, 7, 6]));

describe('balance-batches', () => {
  stageContract('balance-batches', {
    make: (ctx) => balanceBatches(ctx, { classesPerBatch: 3, samplesPerClass: 2, poolCapacity: 24 }),
    sample: sixClasses,
    readAheadBound: 24,
    normalise: (b: Batch) => ({ step: b.step, ids: b.ids }),
  });

  stageContract('balance-batches (chunks of docs)', {
    make: (ctx) => balanceBatches(ctx, { classesPerBatch: 3, samplesPerClass: 2, poolCapacity: 24 }),
    sample: Array.from({ length: Math.ceil(sixClasses.length / 5) }, (_v, i) => sixClasses.slice(i * 5, i * 5 + 5)),
    // poolCapacity records, in chunks of 5, plus the chunk being read
    readAheadBound: 24 / 4 + 1,
    normalise: (b: Batch) => ({ step: b.step, ids: b.ids }),
  });

  it('emits P distinct classes × K records, no record twice, and accounts for every record', async () => {
    const docs = docsWithLabels(classCounts([40, 35, 30, 25, 20, 15, 10, 5]));
    const { batches, stats, ctx } = await run(docs, { classesPerBatch: 4, samplesPerClass: 3, poolCapacity: 48 });
    expect(batches.length).toBeGreaterThan(5);
    batches.forEach(expectWellFormed);
    expect(batches.map((b) => b.step)).toEqual(batches.map((_b, i) => i));
    const ids = batches.flatMap((b) => b.ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length + ctx.quarantine.count()).toBe(docs.length);
    expect(stats.recordsIn).toBe(docs.length);
    expect(stats.recordsBatched + stats.quarantinedTotal + stats.poolRecords + stats.carriedDuplicates).toBe(docs.length);
    expect(stats.maxPoolRecords).toBeLessThanOrEqual(48);
    expect(ctx.counters.get('balance-batches.batches')).toBe(batches.length);
    expect(ctx.counters.get('balance-batches.records_in')).toBe(docs.length);
    expect(ctx.counters.get('balance-batches.records_out')).toBe(ids.length);
  });

  it('same seed gives identical batches; another seed gives others', async () => {
    const docs = docsWithLabels(classCounts(Array.from({ length: 30 }, (_v, i) => 5 + (i % 7))));
    const opts = { classesPerBatch: 5, samplesPerClass: 2, poolCapacity: 60 };
    const a = (await run(docs, opts, 3)).batches.map((b) => b.ids);
    expect((await run(docs, opts, 3)).batches.map((b) => b.ids)).toEqual(a);
    expect((await run(docs, opts, 4)).batches.map((b) => b.ids)).not.toEqual(a);
  });

  it('weighted choice is deterministic and favours classes with more records waiting', async () => {
    const docs = docsWithLabels(classCounts([200, 20, 20, 20, 20, 20, 20, 20, 20, 20]));
    const opts = { classesPerBatch: 2, samplesPerClass: 2, poolCapacity: 300, maxPerClass: 300, choose: 'weighted' as const };
    const a = await run(docs, opts, 5);
    expect((await run(docs, opts, 5)).batches.map((b) => b.ids)).toEqual(a.batches.map((b) => b.ids));
    a.batches.forEach(expectWellFormed);
    const withC0 = (bs: Batch[]) => bs.slice(0, 20).filter((b) => b.labels.includes('c0')).length;
    const uniform = await run(docs, { ...opts, choose: 'uniform' }, 5);
    // c0 holds about half the pool: weighted picks it in most batches, uniform in about 1 of 5
    expect(withC0(a.batches)).toBeGreaterThanOrEqual(12);
    expect(withC0(uniform.batches)).toBeLessThanOrEqual(8);
  });

  it('follows a batch-size schedule without restarting, reporting each phase', async () => {
    const docs = docsWithLabels(classCounts(Array.from({ length: 20 }, () => 40)));
    const { batches } = await run(docs, { schedule: '0:2x2,3:4x2,6:3x4', poolCapacity: 120 });
    batches.forEach(expectWellFormed);
    expect(batches.slice(0, 3).map((b) => b.phase.name)).toEqual(['2x2', '2x2', '2x2']);
    expect(batches.slice(3, 6).map((b) => b.phase.name)).toEqual(['4x2', '4x2', '4x2']);
    expect(batches.slice(6, 10).map((b) => [b.phase.index, b.docs.length])).toEqual([[2, 12], [2, 12], [2, 12], [2, 12]]);
  });

  it('P larger than the number of classes: short batches under fewer-classes, none under skip', async () => {
    const docs = docsWithLabels(classCounts([30, 30, 30]));
    const fewer = await run(docs, { classesPerBatch: 5, samplesPerClass: 2, poolCapacity: 30 });
    expect(fewer.batches.length).toBeGreaterThan(10);
    fewer.batches.forEach(expectWellFormed);
    expect(fewer.batches.every((b) => !b.stats.full && b.stats.classes >= 2)).toBe(true);
    expect(fewer.batches.filter((b) => b.stats.classes === 3).length).toBeGreaterThan(10);
    expect(fewer.batches.flatMap((b) => b.ids).length + fewer.ctx.quarantine.count()).toBe(90);
    expect(fewer.stats.shortBatches).toBe(fewer.batches.length);
    expect(fewer.ctx.counters.get('balance-batches.short_batches')).toBe(fewer.batches.length);

    const skip = await run(docs, { classesPerBatch: 5, samplesPerClass: 2, poolCapacity: 30, shortage: 'skip' });
    expect(skip.batches).toEqual([]);
    expect(skip.ctx.quarantine.counts()).toEqual({
      'balance-batches.incomplete_batch': skip.stats.quarantined.incomplete_batch,
      'balance-batches.pool_overflow': skip.stats.quarantined.pool_overflow,
    });
    expect(skip.ctx.quarantine.count()).toBe(90);
  });

  it('K larger than every class: nothing is batched, everything is quarantined, and it ends', async () => {
    const docs = docsWithLabels(classCounts([3, 3, 3, 3]));
    for (const shortage of ['fewer-classes', 'skip', 'reuse'] as const) {
      const r = await run(docs, { classesPerBatch: 2, samplesPerClass: 5, poolCapacity: 10, shortage });
      expect(r.batches).toEqual([]);
      expect(r.ctx.quarantine.count()).toBe(12);
      expect(r.stats.classesNeverServed).toBe(4);
    }
  });

  it('a single-class corpus yields no batch, a warning, and counted quarantine', async () => {
    const warnings: string[] = [];
    const bal = new BatchBalancer({ classesPerBatch: 2, samplesPerClass: 3, poolCapacity: 12 }, Rng.derive(1, 'x'), {
      reject: () => {},
      warn: (m) => warnings.push(m),
    });
    let batches = 0;
    for (const d of docsWithLabels(Array.from({ length: 50 }, () => 'only'))) if (bal.push(d)) batches++;
    batches += bal.endEpoch().length;
    expect(batches).toBe(0);
    expect(bal.stats().quarantinedTotal).toBe(50);
    expect(warnings.join('\n')).toMatch(/single-class/);
    const r = await run(docsWithLabels(Array.from({ length: 50 }, () => 'only')), { classesPerBatch: 2, samplesPerClass: 3, poolCapacity: 12 });
    expect(r.batches).toEqual([]);
    expect(r.ctx.quarantine.count()).toBe(50);
    expect(r.ctx.quarantine.entries[0]?.message).toMatch(/maxPerClass/);
  });

  it('with minClassesPerBatch 1 a single-class corpus gives one-class batches', async () => {
    const r = await run(docsWithLabels(Array.from({ length: 30 }, () => 'only')), {
      classesPerBatch: 2, samplesPerClass: 3, poolCapacity: 12, minClassesPerBatch: 1,
    });
    expect(r.batches.length).toBe(10);
    expect(r.ctx.quarantine.count()).toBe(0);
  });

  it('quarantines empty-string labels with a clear message and goes on', async () => {
    const docs = docsWithLabels(classCounts([6, 6]));
    docs.splice(3, 0, { id: 'bad', label: '', ids: Int32Array.of(1) });
    const r = await run(docs, { classesPerBatch: 2, samplesPerClass: 3, poolCapacity: 12 });
    expect(r.batches.length).toBe(2);
    expect(r.ctx.quarantine.counts()).toEqual({ 'balance-batches.missing_label': 1 });
    expect(r.ctx.quarantine.entries[0]?.message).toMatch(/record bad has an empty label; expected a non-empty class label/);
  });

  it('a stream ending mid-batch: full batches out, a short batch of what is ready, the rest incomplete_batch', async () => {
    const docs = docsWithLabels(classCounts([7, 7, 5, 1]));
    const r = await run(docs, { classesPerBatch: 3, samplesPerClass: 3, poolCapacity: 60 });
    r.batches.forEach(expectWellFormed);
    expect(r.batches.map((b) => b.stats.full)).toEqual([true, false]);
    expect(r.ctx.quarantine.counts()).toEqual({ 'balance-batches.incomplete_batch': 20 - 15 });
    expect(r.ctx.quarantine.entries[0]?.record).toEqual(expect.objectContaining({ id: expect.any(String), tokens: 3 }));
  });

  it('passes an upstream error on in place and keeps going', async () => {
    const boom = new Error('boom');
    const docs = docsWithLabels(classCounts([6, 6]));
    const src = _([...docs.slice(0, 4), boom, ...docs.slice(4)] as unknown[]).map((x) => {
      if (x === boom) throw boom;
      return x as TokenizedDoc;
    });
    const got = await collectAll(balanceBatches(testContext(), { classesPerBatch: 2, samplesPerClass: 3, poolCapacity: 12 })(src));
    expect(got[0]).toEqual({ error: boom });
    expect(got.filter((g) => 'value' in g).length).toBe(2);
  });

  it('never reads more than poolCapacity records ahead of its consumer', async () => {
    const docs = docsWithLabels(classCounts(Array.from({ length: 50 }, () => 20)));
    const { stream, pulled } = countingSource(docs);
    const ctx = testContext();
    const out = balanceBatches(ctx, { classesPerBatch: 5, samplesPerClass: 2, poolCapacity: 40 })(stream);
    const taken: Batch[] = [];
    for (let i = 0; i < 5; i++) {
      taken.push(await new Promise<Batch>((resolve, reject) => out.pull((e, b) => (e ? reject(e) : resolve(b as Batch)))));
      await new Promise((r) => setTimeout(r, 5));
      const inBatches = taken.reduce((n, b) => n + b.docs.length, 0);
      expect(pulled() - inBatches - ctx.quarantine.count()).toBeLessThanOrEqual(40);
    }
    out.destroy();
  });

  it('takes chunks of docs (tokenize-chunks), alone or mixed with single docs: the same batches, counters and quarantine', async () => {
    // a dominant class, so that some records overflow
    const docs = docsWithLabels(classCounts([150, ...Array.from({ length: 40 }, (_v, i) => 3 + ((i * 7) % 23))]));
    const opts = { classesPerBatch: 6, samplesPerClass: 3, poolCapacity: 90, maxPerClass: 8 };
    const plain = await run(docs, opts, 9);
    expect(plain.ctx.quarantine.counts()['balance-batches.pool_overflow'] ?? 0).toBeGreaterThan(0);
    const chunked = (sizes: number[]): (TokenizedDoc | TokenizedDoc[])[] => {
      const out: (TokenizedDoc | TokenizedDoc[])[] = [];
      for (let i = 0, k = 0; i < docs.length; k++) {
        const n = sizes[k % sizes.length] as number;
        // a size of 0 sends one doc on its own; empty chunks are allowed too
        if (n === 0) out.push(docs[i++] as TokenizedDoc);
        else {
          out.push(docs.slice(i, i + n));
          i += n;
        }
        if (k % 5 === 4) out.push([]);
      }
      return out;
    };
    for (const sizes of [[256], [1], [7, 0, 50, 0, 0, 3]]) {
      const ctx = testContext({ seed: 9 });
      const stage = balanceBatches(ctx, opts);
      const batches = await collect(stage(_(chunked(sizes))));
      expect(batches.map((b) => b.ids)).toEqual(plain.batches.map((b) => b.ids));
      expect(ctx.counters.snapshot()).toEqual(plain.ctx.counters.snapshot());
      expect(ctx.quarantine.entries).toEqual(plain.ctx.quarantine.entries);
      expect(stage.balancer.stats()).toEqual(plain.stats);
    }
  });

  it('with chunks, reads at most poolCapacity records plus one chunk ahead of its consumer', async () => {
    const docs = docsWithLabels(classCounts(Array.from({ length: 50 }, () => 20)));
    const chunks: TokenizedDoc[][] = [];
    for (let i = 0; i < docs.length; i += 16) chunks.push(docs.slice(i, i + 16));
    const { stream, pulled } = countingSource(chunks);
    const ctx = testContext();
    const out = balanceBatches(ctx, { classesPerBatch: 5, samplesPerClass: 2, poolCapacity: 40 })(stream);
    const taken: Batch[] = [];
    for (let i = 0; i < 5; i++) {
      taken.push(await new Promise<Batch>((resolve, reject) => out.pull((e, b) => (e ? reject(e) : resolve(b as Batch)))));
      await new Promise((r) => setTimeout(r, 5));
      const inBatches = taken.reduce((n, b) => n + b.docs.length, 0);
      // batches formed from the last chunk wait, already built, in the stage's output buffer
      expect(pulled() * 16 - inBatches - ctx.quarantine.count()).toBeLessThanOrEqual(40 + 16);
    }
    out.destroy();
  });

  it('keeps a dominant class within maxPerClass, quarantining its overflow as pool_overflow', async () => {
    const ctx = testContext();
    const stage = balanceBatches(ctx, { classesPerBatch: 10, samplesPerClass: 4, poolCapacity: 400 });
    const batches = await collect(stage(generatedDocs({ records: 20_000, classes: 200, headShare: 0.9 })));
    batches.forEach(expectWellFormed);
    const st = stage.balancer.stats();
    expect(st.maxPoolRecords).toBeLessThanOrEqual(400);
    expect(stage.balancer.options.maxPerClass).toBe(40);
    expect(st.quarantined.pool_overflow).toBeGreaterThan(10_000);
    expect(ctx.quarantine.entries[0]?.message).toMatch(/class "head" held maxPerClass = 40/);
    expect(st.recordsBatched + st.quarantinedTotal).toBe(20_000);
  });

  it("overflowEntries 'per-class': the same batches and counts, one entry per class per 1,000 records and at the end", async () => {
    const docs = await collect(generatedDocs({ records: 20_000, classes: 200, headShare: 0.9 }));
    const opts: BatchBalancerOptions = { classesPerBatch: 10, samplesPerClass: 4, poolCapacity: 400 };
    const perRecord = await run(docs, opts);
    const perClass = await run(docs, { ...opts, overflowEntries: 'per-class' });
    expect(perClass.batches.map((b) => b.ids)).toEqual(perRecord.batches.map((b) => b.ids));
    expect(perClass.ctx.quarantine.counts()).toEqual(perRecord.ctx.quarantine.counts());
    expect(perClass.ctx.quarantine.count()).toBe(perRecord.ctx.quarantine.count());
    const overflow = perClass.ctx.quarantine.entries.filter((e) => e.reason === 'pool_overflow');
    const records = overflow.map((e) => e.record as { label: string; count: number; firstId: string; lastId: string });
    expect(overflow.every((e) => e.recordId === null)).toBe(true);
    expect(records.reduce((n, r) => n + r.count, 0)).toBe(perClass.stats.quarantined.pool_overflow);
    expect(overflow.length).toBeLessThan(60);
    // the dominant class: full entries of 1,000 as it goes, then what was left at the end
    const head = records.filter((r) => r.label === 'head');
    expect(head.slice(0, -1).every((r) => r.count === 1000)).toBe(true);
    expect(head.length).toBe(Math.ceil(head.reduce((n, r) => n + r.count, 0) / 1000));
    // first and last ids are those of the records listed one by one under per-record
    const listed = perRecord.ctx.quarantine.entries.filter((e) => e.reason === 'pool_overflow' && (e.record as { label: string }).label === 'head');
    expect(head[0]?.firstId).toBe(listed[0]?.recordId);
    expect(head[0]?.lastId).toBe(listed[999]?.recordId);
    expect(overflow[0]?.message).toMatch(/1000 records of class "head" left the pools without a batch .* from g\d+ to g\d+/);
    // every other reason is still one entry per record
    expect(perClass.ctx.quarantine.entries.filter((e) => e.reason === 'incomplete_batch').length).toBe(perClass.stats.quarantined.incomplete_batch);
  });

  it("overflowEntries 'per-class': a snapshot keeps the overflow not written yet, and a restore writes the same entries", () => {
    const docs = docsWithLabels(classCounts([2500, 60, 60, 60, 12, 6]));
    const opts: BatchBalancerOptions = { classesPerBatch: 3, samplesPerClass: 2, poolCapacity: 24, overflowEntries: 'per-class' };
    const summaries = () => {
      const out: string[] = [];
      return { out, events: { reject: () => {}, overflowSummary: (...a: unknown[]) => { out.push(a.slice(0, 4).join(' ')); } } };
    };
    const whole = summaries();
    const ref = new BatchBalancer(opts, Rng.derive(3, 'b'), whole.events);
    for (const d of docs) ref.push(d);
    ref.endEpoch();
    expect(whole.out.length).toBeGreaterThan(1);
    expect(whole.out[0]).toMatch(/^c0 1000 /);
    // split between two entries of the dominant class: the state carries its pending count
    const split = summaries();
    const first = new BatchBalancer(opts, Rng.derive(3, 'b'), split.events);
    for (const d of docs.slice(0, 1500)) first.push(d);
    const state = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<BatchBalancer['snapshot']>;
    expect(state.classes.find((c) => c.label === 'c0')?.overflow?.count).toBeGreaterThan(0);
    const byId = new Map(docs.map((d) => [d.id, d]));
    const second = BatchBalancer.restore(opts, state, (id) => byId.get(id) as TokenizedDoc, split.events);
    for (const d of docs.slice(1500)) second.push(d);
    second.endEpoch();
    expect(split.out).toEqual(whole.out);
    expect(() => new BatchBalancer(opts, Rng.derive(3, 'b'), { reject: () => {} })).toThrow(/overflowEntries.*overflowSummary/);
  });

  it('carries leftovers into the next epoch, never twice in an epoch, and finish() quarantines the rest', async () => {
    const docs = docsWithLabels(classCounts([9, 8, 7, 5, 4, 2]));
    const ctx = testContext();
    const stage = balanceBatches(ctx, { classesPerBatch: 2, samplesPerClass: 3, poolCapacity: 60, atEpochEnd: 'carry' });
    const e0 = await collect(stage(_(docs.slice())));
    const carried = stage.balancer.waitingRecords().map((d) => d.id);
    expect(carried.length).toBeGreaterThan(0);
    expect(stage.balancer.stats().carried).toBe(carried.length);
    expect(ctx.counters.get('balance-batches.carried')).toBe(carried.length);
    expect(e0.flatMap((b) => b.ids).length + carried.length).toBe(docs.length);
    const e1 = await collect(stage(_(Rng.derive(2, 'e1').shuffle(docs.slice()))));
    expect(e1.every((b) => b.epoch === 1)).toBe(true);
    expect(e1[0]?.step).toBe(e0.length);
    const ids1 = e1.flatMap((b) => b.ids);
    expect(new Set(ids1).size).toBe(ids1.length);
    expect(carried.some((id) => ids1.includes(id))).toBe(true);
    const st = stage.balancer.stats();
    expect(st.carriedDuplicates).toBe(carried.length);
    expect(st.recordsIn).toBe(2 * docs.length);
    expect(st.recordsBatched + st.quarantinedTotal + st.poolRecords + st.carriedDuplicates).toBe(2 * docs.length);
    const left = stage.balancer.poolRecords;
    expect(stage.balancer.finish()).toBe(left);
    expect(ctx.quarantine.counts()['balance-batches.incomplete_batch']).toBe(left);
  });

  it('reuse tops rare classes up with records used earlier, counted, within the batch shape', async () => {
    // c0..c1 are common; c2 has 4 records: after its first batch of 3, one is left, topped up by reuse
    const docs = docsWithLabels([...classCounts([30, 30], 1), 'c2', 'c2', 'c2', 'c2']);
    const r = await run(docs, { classesPerBatch: 3, samplesPerClass: 3, poolCapacity: 30, shortage: 'reuse' });
    r.batches.forEach(expectWellFormed);
    expect(r.stats.reused).toBeGreaterThan(0);
    expect(r.ctx.counters.get('balance-batches.reused')).toBe(r.stats.reused);
    const seen = new Set<string>();
    for (const b of r.batches) {
      for (let i = 0; i < b.ids.length; i++) {
        const id = b.ids[i] as string;
        if (seen.has(id)) expect(b.stats.reused).toBeGreaterThan(0);
        seen.add(id);
      }
    }
    const withoutReuse = await run(docs, { classesPerBatch: 3, samplesPerClass: 3, poolCapacity: 30 });
    expect(withoutReuse.stats.reused).toBe(0);
  });

  it('snapshot → restore continues with the same batches', async () => {
    const docs = docsWithLabels(classCounts(Array.from({ length: 25 }, (_v, i) => 4 + (i % 9))));
    const opts: BatchBalancerOptions = { schedule: '0:3x2,10:5x2', poolCapacity: 40, choose: 'weighted' };
    const events = { reject: () => {} };
    const whole = new BatchBalancer(opts, Rng.derive(9, 'b'), events);
    const ref: string[][] = [];
    for (const d of docs) { const b = whole.push(d); if (b) ref.push(b.ids); }
    ref.push(...whole.endEpoch().map((b) => b.ids));

    const first = new BatchBalancer(opts, Rng.derive(9, 'b'), events);
    const got: string[][] = [];
    const half = Math.floor(docs.length / 2);
    for (const d of docs.slice(0, half)) { const b = first.push(d); if (b) got.push(b.ids); }
    const state = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<BatchBalancer['snapshot']>;
    const byId = new Map(docs.map((d) => [d.id, d]));
    const second = BatchBalancer.restore(opts, state, (id) => byId.get(id) as TokenizedDoc, events);
    for (const d of docs.slice(half)) { const b = second.push(d); if (b) got.push(b.ids); }
    got.push(...second.endEpoch().map((b) => b.ids));
    expect(got).toEqual(ref);
  });

  it('refuses to start an epoch while the previous one runs', async () => {
    const stage = balanceBatches(testContext(), { classesPerBatch: 2, samplesPerClass: 2, poolCapacity: 8 });
    const a = stage(_(docsWithLabels(classCounts([100, 100]))));
    await new Promise<void>((resolve) => a.pull(() => resolve()));
    const got = await collectAll(stage(_(docsWithLabels(classCounts([4, 4])))));
    expect(String((got[0] as { error: unknown }).error)).toMatch(/previous one is still running/);
  });

  it('rejects bad options with the field path and a fix', () => {
    const ctx = testContext();
    const bad = (o: BatchBalancerOptions) => () => balanceBatches(ctx, o);
    expect(bad({ classesPerBatch: 0, samplesPerClass: 2 })).toThrow(/balance-batches.classesPerBatch: must be an integer >= 1 \(got 0\)/);
    expect(bad({ classesPerBatch: 2 })).toThrow(/balance-batches.samplesPerClass: is required unless a schedule is given/);
    expect(bad({ classesPerBatch: 4, samplesPerClass: 4, poolCapacity: 10 })).toThrow(/poolCapacity: must be an integer >= 16.*one full batch/);
    expect(bad({ classesPerBatch: 2, samplesPerClass: 4, maxPerClass: 3 })).toThrow(/maxPerClass: must be an integer >= 4/);
    expect(bad({ classesPerBatch: 2, samplesPerClass: 4, schedule: '0:3x4' })).toThrow(/disagrees with the schedule's first phase \(3x4\)/);
    expect(bad({ classesPerBatch: 2, samplesPerClass: 4, shortage: 'drop' as never })).toThrow(/shortage: must be one of fewer-classes, skip, reuse \(got drop\)/);
    expect(bad({ classesPerBatch: 2, samplesPerClass: 4, schedule: '0:2x4,5:500x4', poolCapacity: 64 })).toThrow(ConfigError);
  });
});

describe('batch schedule', () => {
  it('parses step:PxK phases and finds the phase of a step', () => {
    const s = parseBatchSchedule('0:125x4, 2000:250x4,6000:500x4');
    expect(s.map((p) => [p.index, p.fromStep, p.classesPerBatch, p.samplesPerClass, p.name])).toEqual([
      [0, 0, 125, 4, '125x4'], [1, 2000, 250, 4, '250x4'], [2, 6000, 500, 4, '500x4'],
    ]);
    expect([0, 1999, 2000, 5999, 6000, 10 ** 9].map((st) => phaseAt(s, st).index)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(formatBatchSchedule(s)).toBe('0:125x4,2000:250x4,6000:500x4');
  });

  it('explains what is wrong and the expected form', () => {
    expect(() => parseBatchSchedule('')).toThrow(/schedule: expected "step:PxK\[,step:PxK...\]".*got an empty string/);
    expect(() => parseBatchSchedule('0:125x4,2000:250')).toThrow(/schedule\[1\]: expected "step:PxK" such as "2000:250x4" \(got "2000:250"\)/);
    expect(() => parseBatchSchedule('10:125x4')).toThrow(/schedule\[0\].fromStep: the first phase must start at step 0 \(got 10\)/);
    expect(() => parseBatchSchedule('0:2x2,5:3x2,5:4x2')).toThrow(/schedule\[2\].fromStep: phase steps must increase \(step 5 follows step 5\)/);
    expect(() => parseBatchSchedule('0:0x4')).toThrow(/schedule\[0\]: P and K must be >= 1/);
    expect(() => parseBatchSchedule('0:2x2', '--schedule')).not.toThrow();
  });
});

describe('tripletflow batches (runBatches)', () => {
  const corpus = new URL('../../fixtures/small-corpus.jsonl', import.meta.url).pathname;
  const runLines = async (extra: Record<string, unknown> = {}) => {
    const lines: string[] = [];
    const report = await runBatches(
      { inputs: [corpus], workers: 0, progress: false, seed: 3, classesPerBatch: 4, samplesPerClass: 6, ...extra },
      (l) => { lines.push(l); },
      silentLogger(),
    );
    return { report, lines: lines.map((l) => JSON.parse(l) as BatchLine) };
  };

  it('writes one line per batch, the same for the same seed, and a summary that accounts for every record', async () => {
    const a = await runLines();
    expect(a.lines.length).toBe(a.report.batches);
    expect(a.lines[0]).toEqual({ step: 0, phase: 0, shape: '4x6', ids: expect.any(Array), labels: expect.any(Array) });
    expect(a.report.records).toBe(308);
    expect(a.report.batched + a.report.carried + a.report.quarantined).toBe(a.report.records);
    expect(a.report.maxPoolRecords).toBeLessThanOrEqual(16 * 24);
    expect((await runLines()).lines).toEqual(a.lines);
    expect((await runLines({ seed: 4 })).lines).not.toEqual(a.lines);
  });

  it('follows a schedule and reports leftovers as carried with atEpochEnd carry', async () => {
    const r = await runLines({ classesPerBatch: undefined, samplesPerClass: undefined, schedule: '0:2x6,5:4x4', atEpochEnd: 'carry' });
    expect(r.lines.slice(4, 6).map((l) => l.shape)).toEqual(['2x6', '4x4']);
    expect(r.report.carried).toBeGreaterThan(0);
    expect(r.report.batched + r.report.carried + r.report.quarantined).toBe(r.report.records);
  });

  it("overflowEntries 'per-class': the same batches and accounting, fewer quarantine lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-batches-'));
    const overflowing = { poolCapacity: 24, maxPerClass: 6 };
    const perRecord = await runLines({ ...overflowing, quarantine: join(dir, 'a.jsonl') });
    const perClass = await runLines({ ...overflowing, quarantine: join(dir, 'b.jsonl'), overflowEntries: 'per-class' });
    expect(perClass.lines).toEqual(perRecord.lines);
    expect(perClass.report).toEqual({ ...perRecord.report, peakRssMb: perClass.report.peakRssMb, seconds: perClass.report.seconds });
    expect(perClass.report.quarantineByReason['balance-batches.pool_overflow']).toBeGreaterThan(10);
    const lines = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).length;
    expect(lines('b.jsonl')).toBeLessThan(lines('a.jsonl'));
  });
});
