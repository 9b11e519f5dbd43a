import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../pipeline/backend.js';
import { TOKEN_LR_FACTOR, tokenLearningRate } from '../../../pipeline/train.js';
import type { Batch } from '../../../schemas/batch.js';
import { EmbeddingModel } from '../../../stages/metric/model/embedding-model.js';
import { Trainer } from '../../../stages/train-step.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const ids = [[1, 2, 3], [1, 4, 5], [6, 7, 8, 9], [6, 10], [11, 12], [11, 13, 14]];
const batch = {
  step: 0,
  epoch: 0,
  docs: ids.map((a, i) => ({ id: `d${i}`, label: `c${i >> 1}`, ids: Int32Array.from(a) })),
  labels: ids.map((_a, i) => `c${i >> 1}`),
  ids: ids.map((_a, i) => `d${i}`),
  classIndex: Int32Array.from([0, 0, 1, 1, 2, 2]),
} as unknown as Batch;

/** Largest absolute change per weight over one step: token table rows, and the dense variables. */
function oneStep(opts: ConstructorParameters<typeof Trainer>[1]) {
  const model = EmbeddingModel.create({ vocabSize: 20, embeddingDim: 8, head: [16, 8] }, 3);
  const table0 = Float32Array.from(model.table.weights);
  const dense0 = [...model.variables.values()].map((v) => v.dataSync().slice() as Float32Array);
  const trainer = new Trainer(model, opts);
  const r = trainer.step(batch, { name: 'batch-all' });
  expect(r.numTriplets).toBeGreaterThan(0);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);
  const table = maxDiff(model.table.weights, table0);
  const dense = Math.max(...[...model.variables.values()].map((v, i) => maxDiff(v.dataSync() as Float32Array, dense0[i] as Float32Array)));
  // unused rows (0, 15..19) never move: the table's Adam is lazy
  const unused = maxDiff(model.table.weights.subarray(15 * 8), table0.subarray(15 * 8));
  trainer.dispose();
  model.dispose();
  return { table, dense, unused };
}

describe('Trainer learning rates', () => {
  it('moves the token table by its own learning rate and the dense variables by theirs (Adam: first step ≈ lr)', () => {
    const before = tf.memory().numTensors;
    const r = oneStep({ learningRate: 1e-3, tokenLearningRate: 5e-2 });
    expect(r.table).toBeGreaterThan(0.9 * 5e-2);
    expect(r.table).toBeLessThanOrEqual(5e-2 * 1.0001);
    expect(r.dense).toBeGreaterThan(0.9 * 1e-3);
    expect(r.dense).toBeLessThanOrEqual(1e-3 * 1.0001);
    expect(r.unused).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without tokenLearningRate the table uses learningRate', () => {
    const r = oneStep({ learningRate: 2e-3 });
    expect(r.table).toBeGreaterThan(0.9 * 2e-3);
    expect(r.table).toBeLessThanOrEqual(2e-3 * 1.0001);
  });

  it('train config: the token table defaults to TOKEN_LR_FACTOR × lr; --token-lr overrides it', () => {
    expect(TOKEN_LR_FACTOR).toBe(30);
    expect(tokenLearningRate({ lr: 1e-3, tokenLr: undefined })).toBeCloseTo(3e-2, 12);
    expect(tokenLearningRate({ lr: 1e-4, tokenLr: undefined })).toBeCloseTo(3e-3, 12);
    expect(tokenLearningRate({ lr: 1e-3, tokenLr: 1e-3 })).toBe(1e-3);
  });
});

describe('Trainer paths', () => {
  const batchHard = { name: 'batch-hard', positive: 'hardest', negative: 'hardest', tfMasked: false } as const;
  /** Three steps of a fresh model on `batch`, on the host path or the tf path. */
  function threeSteps(hostStep: boolean, opts: ConstructorParameters<typeof Trainer>[1] = {}) {
    const model = EmbeddingModel.create({ vocabSize: 20, embeddingDim: 8, head: [16, 8] }, 3);
    const trainer = new Trainer(model, { learningRate: 1e-2, tokenLearningRate: 5e-2, ...opts, hostStep });
    const results = [0, 1, 2].map(() => trainer.step(batch, batchHard));
    const dense = [...model.variables.values()].map((v) => Float32Array.from(v.dataSync() as Float32Array));
    const table = Float32Array.from(model.table.weights);
    trainer.dispose();
    model.dispose();
    return { results, dense, table };
  }
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);

  it('the host path takes the same steps as the tf path, up to float rounding, and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const host = threeSteps(true);
    expect(tf.memory().numTensors).toBe(before);
    const tfp = threeSteps(false);
    expect(tf.memory().numTensors).toBe(before);
    host.results.forEach((r, i) => {
      expect(r.loss).toBeCloseTo((tfp.results[i] as typeof r).loss, 5);
      expect(r.hardestLoss).toBeCloseTo((tfp.results[i] as typeof r).hardestLoss, 5);
    });
    host.dense.forEach((d, i) => expect(maxDiff(d, tfp.dense[i] as Float32Array)).toBeLessThan(1e-5));
    expect(maxDiff(host.table, tfp.table)).toBeLessThan(1e-5);
  });

  it('clipping and weight decay: same global gradient norm and weights on both paths', () => {
    const opts = { clipNorm: 0.05, weightDecay: 0.1 };
    const host = threeSteps(true, opts);
    const tfp = threeSteps(false, opts);
    host.results.forEach((r, i) => {
      expect(r.gradNorm).not.toBeNull();
      expect(r.gradNorm as number).toBeCloseTo((tfp.results[i] as typeof r).gradNorm as number, 5);
    });
    host.dense.forEach((d, i) => expect(maxDiff(d, tfp.dense[i] as Float32Array)).toBeLessThan(1e-5));
    expect(maxDiff(host.table, tfp.table)).toBeLessThan(1e-5);
  });

  it('the same seed gives identical steps on the host path', () => {
    const a = threeSteps(true);
    const b = threeSteps(true);
    expect(a.results.map((r) => r.loss)).toEqual(b.results.map((r) => r.loss));
    a.dense.forEach((d, i) => expect(d).toEqual(b.dense[i]));
    expect(a.table).toEqual(b.table);
  });

  it('picks the host path for a bag model on cpu/wasm; hostStep for a transformer is an error', () => {
    const bag = EmbeddingModel.create({ vocabSize: 20, embeddingDim: 8, head: [16, 8] }, 3);
    const t = new Trainer(bag);
    expect(t.hostStep).toBe(true);
    t.dispose();
    bag.dispose();
    const tr = EmbeddingModel.create({ vocabSize: 20, embeddingDim: 8, head: [8], encoder: 'transformer', heads: 2, layers: 1 }, 3);
    expect(new Trainer(tr).hostStep).toBe(false);
    expect(() => new Trainer(tr, { hostStep: true })).toThrow(/hostStep needs the bag or pretrained encoder/);
    tr.dispose();
  });

  it('a pretrained model (features in, frozen encoder) takes the same steps on both paths', () => {
    const featureBatch = { ...batch, docs: batch.docs.map((d, i) => ({ ...d, features: Float32Array.from({ length: 8 }, (_v, j) => Math.sin(i * 8 + j)) })) } as Batch;
    const run = (hostStep: boolean) => {
      const model = EmbeddingModel.create({ encoder: 'pretrained', vocabSize: 20, embeddingDim: 8, head: [16, 8] }, 3);
      const trainer = new Trainer(model, { learningRate: 1e-2, hostStep });
      const losses = [0, 1, 2].map(() => trainer.step(featureBatch, batchHard).loss);
      const dense = [...model.variables.values()].map((v) => Float32Array.from(v.dataSync() as Float32Array));
      trainer.dispose();
      model.dispose();
      return { losses, dense };
    };
    const before = tf.memory().numTensors;
    const host = run(true);
    const tfp = run(false);
    expect(tf.memory().numTensors).toBe(before);
    host.losses.forEach((l, i) => expect(l).toBeCloseTo(tfp.losses[i] as number, 5));
    host.dense.forEach((d, i) => expect(maxDiff(d, tfp.dense[i] as Float32Array)).toBeLessThan(1e-5));
  });
});
