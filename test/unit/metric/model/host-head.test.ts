import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../pipeline/backend.js';
import { adamStepSize, TfDenseAdam } from '../../../../stages/metric/model/dense-adam.js';
import { HostHead, hostGram, type HeadLayer } from '../../../../stages/metric/model/host-head.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const IN = 3;
const OUT = 5;
const ROWS = 4;
/** A one-layer head (x·W + b) with fixed weights. */
function layer(): HeadLayer {
  const v = (shape: number[], f: (i: number) => number) => {
    const init = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_x, i) => f(i)), shape);
    const out = tf.variable(init);
    init.dispose();
    return out;
  };
  return { kernelKey: 'a/kernel', biasKey: 'a/bias', kernel: v([IN, OUT], (i) => Math.sin(i + 1)), bias: v([OUT], (i) => 0.1 * i) };
}
const x = Float32Array.from({ length: ROWS * IN }, (_v, i) => Math.cos(i * 0.3));
const dyAt = (step: number) => Float32Array.from({ length: ROWS * OUT }, (_v, i) => Math.cos(i * 0.7 + step) * (step + 1));
const values = (l: HeadLayer) => [l.kernel, l.bias].map((v) => Float32Array.from(v.dataSync() as Float32Array));
const dispose = (l: HeadLayer) => tf.dispose([l.kernel, l.bias]);
/** `steps` forward/backward/Adam steps of a host head from step `from`. */
function hostSteps(head: HostHead, from: number, to: number) {
  for (let s = from; s < to; s++) {
    head.forward(x, ROWS);
    head.backward(dyAt(s));
    head.applyAdam();
  }
}

describe('HostHead', () => {
  it('forward x·W + b, backward dW = xᵀ·dy, db = Σ dy, dx = dy·Wᵀ, Adam as TfDenseAdam; no tensor leaks', () => {
    const before = tf.memory().numTensors;
    const h = layer();
    const t = layer();
    const head = new HostHead([h], { learningRate: 1e-2 }, 0.1);
    const dev = new TfDenseAdam(new Map([['a/kernel', t.kernel], ['a/bias', t.bias]]), { learningRate: 1e-2 }, 0.1);
    for (let s = 0; s < 3; s++) {
      const out = head.forward(x, ROWS);
      const dy = dyAt(s);
      const dx = head.backward(dy);
      const tx = tf.tensor2d(x, [ROWS, IN]);
      const tdy = tf.tensor2d(dy, [ROWS, OUT]);
      const expected = tf.tidy(() => ({
        out: tf.add(tf.matMul(tx, t.kernel as tf.Tensor2D), t.bias).dataSync(),
        dx: tf.matMul(tdy, t.kernel as tf.Tensor2D, false, true).dataSync(),
      }));
      out.forEach((v, i) => expect(v).toBeCloseTo(expected.out[i] as number, 5));
      dx.forEach((v, i) => expect(v).toBeCloseTo(expected.dx[i] as number, 5));
      const grads = new Map([['a/kernel', tf.matMul(tx, tdy, true, false)], ['a/bias', tf.sum(tdy, 0)]]);
      head.applyAdam();
      dev.apply(grads);
      tf.dispose([tx, tdy, ...grads.values()]);
      const hv = values(h);
      values(t).forEach((v, i) => v.forEach((y, j) => expect(y).toBeCloseTo((hv[i] as Float32Array)[j] as number, 5)));
    }
    expect(head.step).toBe(3);
    dev.dispose();
    dispose(h);
    dispose(t);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('state() then restore() continues bit for bit, through TfDenseAdam and a new head', () => {
    const a = layer();
    hostSteps(new HostHead([a], { learningRate: 1e-2 }), 0, 5);
    const b = layer();
    const first = new HostHead([b], { learningRate: 1e-2 });
    hostSteps(first, 0, 2);
    const mid = new TfDenseAdam(new Map([['a/kernel', b.kernel], ['a/bias', b.bias]]), { learningRate: 1e-2 });
    mid.restore(first.state());
    expect(mid.state().step).toBe(2);
    // a new head reads the weights the first one wrote into the variables
    const last = new HostHead([b], { learningRate: 1e-2 });
    last.restore(mid.state());
    hostSteps(last, 2, 5);
    values(b).forEach((v, i) => expect(v).toEqual(values(a)[i]));
    mid.dispose();
    dispose(a);
    dispose(b);
  });

  it('reads the variables again when something else assigned them', () => {
    const l = layer();
    const head = new HostHead([l], { learningRate: 1e-2 });
    head.forward(x, ROWS);
    const zeros = tf.zeros([OUT]);
    l.bias.assign(zeros);
    zeros.dispose();
    const out = head.forward(x, ROWS);
    const expected = tf.tidy(() => tf.matMul(tf.tensor2d(x, [ROWS, IN]), l.kernel as tf.Tensor2D).dataSync());
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
    dispose(l);
  });

  it('restore() of a state from another model names the variable', () => {
    const l = layer();
    const head = new HostHead([l], { learningRate: 1e-2 });
    expect(() => head.restore({ step: 1, m: new Map(), v: new Map() })).toThrow(/no m for variable a\/kernel/);
    dispose(l);
  });

  it('Adam step size: lr·√(1−β₂ᵗ)/(1−β₁ᵗ)', () => {
    expect(adamStepSize(1, { learningRate: 1e-3 })).toBeCloseTo(1e-3 * Math.sqrt(0.001) / 0.1, 15);
  });

  it('hostGram: x xᵀ, for shapes off the 4 × 8 blocks too', () => {
    for (const [rows, cols] of [[6, 8], [13, 7], [64, 128]] as const) {
      const data = Float32Array.from({ length: rows * cols }, (_v, i) => Math.sin(i * 1.3));
      const g = hostGram({ data, rows, cols });
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < rows; j++) {
          let s = 0;
          for (let k = 0; k < cols; k++) s += (data[i * cols + k] as number) * (data[j * cols + k] as number);
          expect(g[i * rows + j]).toBeCloseTo(s, 4);
        }
      }
    }
  });
});
