import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfTripletLoss } from '../../../stages/metric/tf-triplet-loss.js';
import { tripletLoss } from '../../../stages/metric/triplet-loss.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function batch(b: number, d: number, seed = 1): { x: Float32Array; labels: number[] } {
  let s = seed;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  return { x: Float32Array.from({ length: b * d }, () => r() - 0.5), labels: Array.from({ length: b }, (_, i) => i % 4) };
}

describe('tfTripletLoss', () => {
  for (const useMatMul of [true, false]) {
    it(`loss and tf.grad equal the typed-array core (useMatMul=${useMatMul})`, () => {
      const { x, labels } = batch(24, 8);
      const opts = { miner: { name: 'batch-hard' as const }, reducer: 'mean' as const };
      const tl = tfTripletLoss(opts, {}, { useMatMul });
      const xt = tf.tensor2d(x, [24, 8]);
      const g = tf.grad((v: tf.Tensor) => tl.loss(v as tf.Tensor2D, labels))(xt);
      const core = tripletLoss(opts).compute({ data: Float64Array.from(x), rows: 24, cols: 8 }, labels);
      expect(tl.last!.loss).toBeCloseTo(core.loss, 5);
      const gd = g.dataSync();
      for (let i = 0; i < gd.length; i++) expect(Math.abs(gd[i]! - core.grad![i]!)).toBeLessThan(1e-5);
      tf.dispose([xt, g]);
    });
  }

  it('leaks no tensors (forward, backward, optimizer step)', () => {
    const { x, labels } = batch(16, 4);
    const start = tf.memory().numTensors;
    const init = tf.tensor2d(x, [16, 4]);
    const w = tf.variable(init);
    const tl = tfTripletLoss({ miner: { name: 'semi-hard' } });
    const opt = tf.train.sgd(0.1);
    for (let i = 0; i < 3; i++) {
      const cost = opt.minimize(() => tl.loss(w as unknown as tf.Tensor2D, labels), true);
      cost?.dispose();
    }
    const l = tl.loss(w as unknown as tf.Tensor2D, labels);
    l.dispose();
    opt.dispose();
    w.dispose();
    init.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('rejects a tensor that is not 2-D', () => {
    const t = tf.tensor1d([1, 2, 3]);
    expect(() => tfTripletLoss().loss(t as unknown as tf.Tensor2D, [0, 1, 2])).toThrow(/2-D/);
    t.dispose();
  });
});
