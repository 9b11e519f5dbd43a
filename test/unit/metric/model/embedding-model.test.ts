import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../pipeline/backend.js';
import { EmbeddingModel } from '../../../../stages/metric/model/embedding-model.js';
import { tfTripletLoss } from '../../../../stages/metric/tf-triplet-loss.js';

const docs = [[1, 2, 3], [1, 4, 5], [6, 7, 8, 9], [6, 10], [11, 12], [11, 13, 14]].map((a) => Int32Array.from(a));
const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);

beforeAll(async () => {
  await selectBackend('cpu');
});

/** Finite-difference check of d loss / d token table and d loss / d first head kernel. */
function gradCheck(model: EmbeddingModel) {
  const tl = tfTripletLoss({ miner: { name: 'batch-all' }, normalize: true, reducer: 'mean' });
  const lossOnly = () => {
    const input = model.input(docs);
    return tf.tidy(() => tl.loss(model.forward(tf.tensor(input.x, input.shape), input, false), labels).dataSync()[0] as number);
  };
  const input = model.input(docs);
  const x = tf.variable(tf.tensor(input.x, input.shape));
  const { value, grads } = tf.variableGrads(() => tl.loss(model.forward(x, input, false), labels));
  const rows = model.inputBackward(input, (grads[x.name] as tf.Tensor).dataSync() as Float32Array);
  const E = model.options.embeddingDim;
  const checks: Array<[number, number]> = [];
  for (const id of [1, 11]) {
    for (const e of [0, 3]) {
      const w = model.table.weights;
      const o = id * E + e;
      const orig = w[o] as number;
      const h = 1e-2;
      w[o] = orig + h;
      const lp = lossOnly();
      w[o] = orig - h;
      const lm = lossOnly();
      w[o] = orig;
      checks.push([(lp - lm) / (2 * h), rows.grads[rows.ids.indexOf(id) * E + e] as number]);
    }
  }
  tf.dispose([value, x, ...Object.values(grads)]);
  return checks;
}

describe('EmbeddingModel', () => {
  it('bag: gradients to the CPU token table match finite differences', () => {
    const m = EmbeddingModel.create({ vocabSize: 50, embeddingDim: 8, head: [16, 8] }, 1);
    for (const [numeric, analytic] of gradCheck(m)) expect(analytic).toBeCloseTo(numeric, 3);
    m.dispose();
  });

  it('transformer: gradients to the CPU token table match finite differences', () => {
    const m = EmbeddingModel.create({ encoder: 'transformer', vocabSize: 50, embeddingDim: 8, heads: 2, layers: 1, head: [16, 8], maxLength: 8 }, 2);
    for (const [numeric, analytic] of gradCheck(m)) expect(analytic).toBeCloseTo(numeric, 2);
    m.dispose();
  });

  it('embeds to unit vectors, without leaking tensors, and the same seed gives the same weights', () => {
    const before = tf.memory().numTensors;
    const a = EmbeddingModel.create({ vocabSize: 50, embeddingDim: 8, head: [16, 8] }, 3);
    const b = EmbeddingModel.create({ vocabSize: 50, embeddingDim: 8, head: [16, 8] }, 3);
    const ea = a.embed(docs);
    expect(Array.from(b.embed(docs))).toEqual(Array.from(ea));
    for (let i = 0; i < docs.length; i++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += (ea[i * 8 + k] as number) ** 2;
      expect(s).toBeCloseTo(1, 5);
    }
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saves and loads to identical embeddings; a bad directory names the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-model-'));
    const m = EmbeddingModel.create({ encoder: 'transformer', vocabSize: 50, embeddingDim: 8, heads: 2, layers: 1, head: [16, 8], maxLength: 8 }, 4);
    await m.save(dir);
    const back = await EmbeddingModel.load(dir);
    expect(back.options).toEqual(m.options);
    expect(Array.from(back.embed(docs))).toEqual(Array.from(m.embed(docs)));
    m.dispose();
    back.dispose();
    await expect(EmbeddingModel.load(join(dir, 'nope'))).rejects.toThrow(/nope\/model\.json: cannot read the model/);
    writeFileSync(join(dir, 'model.json'), '{"format":"other"}');
    await expect(EmbeddingModel.load(dir)).rejects.toThrow(/not a tripletflow embedding model/);
  });

  it('rejects token ids outside the vocabulary with a hint', () => {
    const m = EmbeddingModel.create({ vocabSize: 50, embeddingDim: 8, head: [8] }, 5);
    expect(() => m.input([Int32Array.from([1, 99])])).toThrow(/token id 99 of document 0 is outside the vocabulary/);
    m.dispose();
  });
});
