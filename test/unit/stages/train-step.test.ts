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
  trainer.optimizer.dispose();
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
