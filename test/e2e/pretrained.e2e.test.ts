import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunContext } from '../../pipeline/context.js';
import { buildDataGraph, featureCacheOf } from '../../pipeline/data-graph.js';
import { runEval } from '../../pipeline/embed.js';
import { ConfigError } from '../../pipeline/errors.js';
import { silentLogger } from '../../pipeline/logger.js';
import { runPrepare } from '../../pipeline/prepare.js';
import { pullOne } from '../../pipeline/stage.js';
import { runTrain } from '../../pipeline/train.js';
import { evalOf, metricsOf } from '../helpers/run-outputs.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import { parquetInfo } from '../../stages/adapters/parquet-reader.js';
import { openFeatureEncoder, type FeatureEncoder } from '../../stages/encode-features.js';
import { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import { tripletLoss } from '../../stages/metric/triplet-loss.js';

const FIXTURE = 'test/fixtures/tiny-bert';
const CORPUS = 'test/fixtures/small-corpus.jsonl';
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** Feature caches of the small corpus by dtype, written once by the round-trip tests and reused by the later ones. */
const caches = new Map<string, string>();
async function cacheOf(dtype: 'float32' | 'float16'): Promise<string> {
  let dir = caches.get(dtype);
  if (!dir) {
    dir = tmp(`tf-features-${dtype}-`);
    await runPrepare({ inputs: [CORPUS], encoder: FIXTURE, out: dir, featureDtype: dtype, maxLength: 32, workers: 0, progress: false, encoderBatchSize: 16 }, silentLogger());
    caches.set(dtype, dir);
  }
  return dir;
}

async function readAll(inputs: string[], encoder?: FeatureEncoder): Promise<{ docs: TokenizedDoc[]; features: unknown }> {
  const ctx = new RunContext({ logger: silentLogger() });
  const data = await buildDataGraph(ctx, { inputs, tokenizer: FIXTURE, maxLength: 32, shuffleWindow: 1, shuffleShards: false, workers: 0 }, encoder ? { encoder } : {});
  const docs: TokenizedDoc[] = [];
  const s = data.graph.stream();
  for (let r = await pullOne(s); !r.done; r = await pullOne(s)) docs.push(r.value);
  await ctx.close();
  return { docs, features: data.features };
}

describe('feature cache: prepare --encoder, then read back', () => {
  let live: Map<string, Float32Array>;
  let encoder: FeatureEncoder;
  beforeAll(async () => {
    encoder = await openFeatureEncoder({ model: FIXTURE, worker: false });
    live = new Map((await readAll([CORPUS], encoder)).docs.map((d) => [d.id, d.features as Float32Array]));
  });
  afterAll(async () => {
    await encoder.close();
  });

  for (const dtype of ['float32', 'float16'] as const) {
    it(`${dtype}: every record comes back with the encoder's features (${dtype === 'float32' ? 'exactly' : 'within 2^-11'}), and the cache says what it holds`, async () => {
      const out = tmp(`tf-features-${dtype}-`);
      const report = await runPrepare({ inputs: [CORPUS], encoder: FIXTURE, out, featureDtype: dtype, maxLength: 32, workers: 0, progress: false, encoderBatchSize: 16 }, silentLogger());
      caches.set(dtype, out);
      expect(report.graph).toBe('read → validate → shuffle-window → tokenize → encode-features → write-shards');
      expect(report.emitted).toBe(300);
      expect(report.records).toBe(report.emitted + report.quarantined);
      expect(report.features).toMatchObject({ dim: 32, dtype });
      // id + label + the vector, uncompressed: the vector dominates
      expect(report.features?.bytesPerRecord).toBeGreaterThan(32 * (dtype === 'float16' ? 2 : 4));

      const info = await parquetInfo(report.shards?.[0] as string);
      expect(info.columns).toEqual(['id', 'label', 'features']);
      const meta = await featureCacheOf([out]);
      expect(meta).toMatchObject({ format: 'tripletflow-features', dim: 32, dtype, pooling: 'mean', encoderModel: resolve(FIXTURE), modelType: 'bert', maxLength: 32 });

      const back = await readAll([out]);
      expect(back.features).toEqual(meta);
      expect(back.docs).toHaveLength(300);
      for (const d of back.docs) {
        const want = live.get(d.id) as Float32Array;
        expect(d.ids.length).toBe(0);
        if (dtype === 'float32') expect(d.features).toEqual(want);
        else want.forEach((x, e) => expect(Math.abs((d.features?.[e] as number) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 1e-7));
      }
    });
  }

  it('an encoder whose size differs from the cache is refused', async () => {
    const other = { ...encoder, dim: 384 };
    await expect(readAll([await cacheOf('float32')], other)).rejects.toThrow(/holds 32-value vectors but the encoder .* makes 384/);
  });
});

describe('train a head on the pretrained encoder', () => {
  let live: FeatureEncoder;
  beforeAll(async () => {
    live = await openFeatureEncoder({ model: FIXTURE, worker: false });
  });
  afterAll(async () => {
    await live.close();
  });
  const base: TrainConfigInput = {
    inputs: [CORPUS],
    eval: ['test/fixtures/small-eval.jsonl'],
    steps: 40,
    classes: 4,
    perClass: 4,
    miner: 'semi-hard',
    head: [64, 32],
    lr: 3e-3,
    maxLength: 32,
    backend: 'cpu',
    workers: 0,
    logEvery: 1,
    progress: false,
    report: false,
    seed: 3,
  };
  /**
   * The triplet loss over every valid triplet of `docs` (batch-all, mean over all of them, margin 0.2), of the
   * trained model and of the untrained one (same options and seed): the training batches' own loss is no measure, as
   * the miners keep picking the triplets that are still hard.
   */
  async function lossBeforeAfter(dir: string, docs: readonly TokenizedDoc[]): Promise<[number, number]> {
    const trained = await EmbeddingModel.load(join(dir, 'model'));
    const untrained = EmbeddingModel.create(trained.options, base.seed as number);
    const ids = new Map<string, number>();
    const labels = docs.map((d) => ids.get(d.label) ?? (ids.set(d.label, ids.size), ids.size - 1));
    const loss = tripletLoss({ miner: { name: 'batch-all' }, reducer: 'mean' });
    const of = (m: EmbeddingModel) => loss.compute({ data: m.embedDocs(docs), rows: docs.length, cols: m.outputDim }, labels, { grad: false }).loss;
    const r: [number, number] = [of(untrained), of(trained)];
    trained.dispose();
    untrained.dispose();
    return r;
  }

  it('with the encoder running live: the loss falls, the model records its encoder, and eval reproduces the final metrics', async () => {
    const out = tmp('tf-pretrained-live-');
    const r = await runTrain({ ...base, out, encoder: 'pretrained', encoderModel: FIXTURE, encoderBatchSize: 32 }, silentLogger());
    expect(r.status).toBe('done');
    expect(r.steps).toBe(40);
    const [before, after] = await lossBeforeAfter(out, (await readAll([CORPUS], live)).docs);
    expect(after).toBeLessThan(before * 0.8);
    const model = JSON.parse(readFileSync(join(out, 'model', 'model.json'), 'utf8')) as { options: Record<string, unknown>; weightsManifest: Array<{ weights: Array<{ name: string }> }> };
    expect(model.options).toMatchObject({ encoder: 'pretrained', encoderModel: resolve(FIXTURE), embeddingDim: 32, pooling: 'mean', maxLength: 32 });
    // only the head is trained and saved: the encoder stays frozen in its own directory
    expect(model.weightsManifest[0]?.weights.map((w) => w.name)).toEqual(['head/dense0/kernel', 'head/dense0/bias', 'head/dense1/kernel', 'head/dense1/bias']);
    const ev = await runEval({ model: join(out, 'model'), inputs: ['test/fixtures/small-eval.jsonl'], backend: 'cpu' }, silentLogger());
    expect(ev.mean_average_precision_at_r).toBeCloseTo(r.final?.mean_average_precision_at_r as number, 6);
  });

  it('from a feature cache: the encoder is not run on the training data, the loss falls, and the cache decides the encoder', async () => {
    const cache = await cacheOf('float16');
    const out = tmp('tf-pretrained-cached-');
    const r = await runTrain({ ...base, inputs: [cache], out, eval: [cache], evalUnseenLabels: true }, silentLogger());
    expect(r.status).toBe('done');
    const [before, after] = await lossBeforeAfter(out, (await readAll([cache])).docs);
    expect(after).toBeLessThan(before * 0.8);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { records: { read: number } };
    expect(run.records.read).toBeGreaterThan(300);
    await expect(runTrain({ ...base, inputs: [cache], out: tmp('tf-x-'), encoder: 'bag' }, silentLogger())).rejects.toThrow(/is a feature cache .*only --encoder pretrained trains on it/);
    // eval reads the cache too; a token model is refused on it rather than embedding empty id lists
    const ev = await runEval({ model: join(out, 'model'), inputs: [cache], backend: 'cpu' }, silentLogger());
    expect(ev.mean_average_precision_at_r).toBeCloseTo(r.final?.mean_average_precision_at_r as number, 6);
    const bag = tmp('tf-bag-');
    await runTrain({ ...base, out: bag, steps: 2, eval: [] }, silentLogger());
    await expect(runEval({ model: join(bag, 'model'), inputs: [cache], backend: 'cpu' }, silentLogger())).rejects.toThrow(/a feature cache of 32-value vectors, but .* is a bag model that reads token ids/);
  });

  it('stopped and resumed, live (one batch encoded ahead) and from a feature cache: the same metrics as without a stop', async () => {
    const cache = await cacheOf('float32');
    for (const cfg of [
      { ...base, steps: 16, checkpointEvery: 5, encoder: 'pretrained' as const, encoderModel: FIXTURE },
      { ...base, steps: 16, checkpointEvery: 5, inputs: [cache], eval: [cache], evalUnseenLabels: true },
    ]) {
      const a = tmp('tf-pretrained-a-');
      await runTrain({ ...cfg, out: a }, silentLogger());
      const b = tmp('tf-pretrained-b-');
      const first = await runTrain({ ...cfg, out: b }, { logger: silentLogger(), shouldStop: (s) => s === 7 });
      expect(first.status).toBe('resumable');
      await runTrain({}, { logger: silentLogger(), resume: b });
      expect(metricsOf(b)).toEqual(metricsOf(a));
      expect(evalOf(b)).toEqual(evalOf(a));
    }
  });

  it('--encoder pretrained without --encoder-model, or with another tokenizer, is a ConfigError', async () => {
    await expect(runTrain({ ...base, out: tmp('tf-x-'), encoder: 'pretrained' }, silentLogger())).rejects.toBeInstanceOf(ConfigError);
    await expect(runTrain({ ...base, out: tmp('tf-x-'), encoder: 'pretrained', encoderModel: FIXTURE, tokenizer: 'assets/tokenizers/bert-base-uncased' }, silentLogger()))
      .rejects.toThrow(/uses its own tokenizer/);
    await expect(runTrain({ ...base, out: tmp('tf-x-'), encoder: 'pretrained', encoderModel: FIXTURE, maxLength: 200 }, silentLogger()))
      .rejects.toThrow(/200 tokens is more than .* allows \(max_position_embeddings 128\)/);
  });
});
