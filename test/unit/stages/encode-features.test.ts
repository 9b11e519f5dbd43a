import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import _ from 'highland';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FatalError } from '../../../pipeline/errors.js';
import type { TokenizedDoc } from '../../../schemas/tokenized-doc.js';
import { inspectPretrainedDir } from '../../../stages/adapters/onnx-encoder.js';
import { encodeFeatures, openFeatureEncoder, type FeatureEncoder } from '../../../stages/encode-features.js';
import { collect } from '../../helpers/collect.js';
import { countingSource } from '../../helpers/jittered-source.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';

const FIXTURE = 'test/fixtures/tiny-bert';

/** A stand-in encoder: features [length, sum of ids], so order and batching are easy to check. */
function fakeEncoder(calls: number[] = []): FeatureEncoder {
  return {
    info: inspectPretrainedDir(FIXTURE),
    pooling: 'mean',
    device: 'cpu',
    dim: 2,
    async encode(docs) {
      calls.push(docs.length);
      await new Promise((r) => setTimeout(r, 1));
      return Float32Array.from(docs.flatMap((d) => [d.length, d.reduce((s, x) => s + x, 0)]));
    },
    close: async () => {},
  };
}

const docs: TokenizedDoc[] = Array.from({ length: 23 }, (_x, i) => ({
  id: `d${i}`, label: `c${i % 3}`, ids: Int32Array.from({ length: 2 + (i % 5) }, (_y, t) => 2 + ((i * 7 + t * 3) % 400)),
}));

describe('encode-features', () => {
  stageContract('encode-features', {
    make: (ctx) => encodeFeatures(ctx, fakeEncoder(), { batchSize: 4, prefetch: 2 }),
    sample: docs,
    oneToOne: true,
    // prefetch × batchSize documents
    readAheadBound: 4 * 2,
    normalise: (d) => ({ ...d, ids: Array.from(d.ids), features: Array.from(d.features ?? []) }),
  });

  it('adds each document its own features, in order, batchSize documents per encoder run', async () => {
    const calls: number[] = [];
    const ctx = testContext();
    const out = await collect(encodeFeatures(ctx, fakeEncoder(calls), { batchSize: 10 })(_(docs.slice())));
    expect(out.map((d) => d.id)).toEqual(docs.map((d) => d.id));
    out.forEach((d, i) => expect(Array.from(d.features ?? [])).toEqual([docs[i]!.ids.length, docs[i]!.ids.reduce((s, x) => s + x, 0)]));
    expect(calls).toEqual([10, 10, 3]);
    expect(ctx.counters.get('encode-features.batches')).toBe(3);
    expect(ctx.counters.get('encode-features.records')).toBe(23);
    // each document owns its vector: no view into a shared batch buffer
    expect(out[0]!.features!.buffer).not.toBe(out[1]!.features!.buffer);
  });

  it('reads at most prefetch × batchSize documents ahead of a consumer that took one', async () => {
    const { stream, pulled } = countingSource(docs);
    const s = encodeFeatures(testContext(), fakeEncoder(), { batchSize: 3, prefetch: 1 })(stream);
    await new Promise<void>((resolve) => s.pull(() => resolve()));
    await new Promise((r) => setTimeout(r, 30));
    expect(pulled()).toBe(3);
    s.destroy();
  });

  it('bad options are ConfigErrors naming the field', () => {
    expect(() => encodeFeatures(testContext(), fakeEncoder(), { batchSize: 0 })).toThrow(ConfigError);
    expect(() => encodeFeatures(testContext(), fakeEncoder(), { prefetch: 1.5 })).toThrow(/encode-features\.prefetch: must be an integer >= 1/);
  });
});

describe('encode-features with the real encoder', () => {
  let direct: FeatureEncoder;
  beforeAll(async () => {
    direct = await openFeatureEncoder({ model: FIXTURE, worker: false });
  });
  afterAll(async () => {
    await direct.close();
  });

  it('on a worker thread gives the same features as the encoder on this thread, document by document', async () => {
    const ctx = testContext();
    const out = await collect(encodeFeatures(ctx, { model: FIXTURE }, { batchSize: 8, prefetch: 2 })(_(docs.slice())));
    await ctx.close();
    expect(out).toHaveLength(docs.length);
    for (const [i, d] of out.entries()) {
      const want = await direct.encode([docs[i]!.ids]);
      expect(d.features).toHaveLength(32);
      d.features!.forEach((v, e) => expect(Math.abs(v - (want[e] as number))).toBeLessThan(1e-5));
    }
  });

  it('closing while a run is in flight waits for it (ending a worker thread inside ONNX Runtime aborts the process)', async () => {
    const enc = await openFeatureEncoder({ model: FIXTURE });
    const big = Array.from({ length: 256 }, (_x, i) => Int32Array.from({ length: 100 + (i % 28) }, (_y, t) => 5 + ((i + t) % 480)));
    const pending = enc.encode(big);
    await enc.close();
    expect((await pending).length).toBe(256 * 32);
  }, 20_000);

  it('a model ONNX Runtime cannot load fails at open, from the worker thread, as a FatalError naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-bad-onnx-'));
    try {
      cpSync(FIXTURE, dir, { recursive: true });
      writeFileSync(join(dir, 'onnx', 'model.onnx'), 'garbage');
      let err: unknown;
      try {
        await openFeatureEncoder({ model: dir });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FatalError);
      expect((err as Error).message).toMatch(/ONNX Runtime cannot load .*onnx[/\\]model\.onnx/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuda without its provider fails before any worker starts, with the install advice', async () => {
    await expect(openFeatureEncoder({ model: FIXTURE, device: 'cuda' })).rejects.toThrow(/onnxruntime-node-install=cuda12/);
  });
});
