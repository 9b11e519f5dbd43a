import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../pipeline/backend.js';
import { adamStepSize, HostDenseAdam, TfDenseAdam } from '../../../../stages/metric/model/dense-adam.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

const shapes: Record<string, number[]> = { 'a/kernel': [3, 5], 'a/bias': [5] };
/** Variables with fixed values, and a gradient per step that depends on the step. */
function setup() {
  const vars = new Map<string, tf.Variable>();
  for (const [k, s] of Object.entries(shapes)) {
    const n = s.reduce((x, y) => x * y, 1);
    const init = tf.tensor(Float32Array.from({ length: n }, (_v, i) => Math.sin(i + 1)), s);
    vars.set(k, tf.variable(init));
    init.dispose();
  }
  const grad = (k: string, step: number) => Float32Array.from({ length: vars.get(k)!.size }, (_v, i) => Math.cos(i * 0.7 + step) * (step + 1));
  return { vars, grad };
}
const values = (vars: Map<string, tf.Variable>) => [...vars.values()].map((v) => Float32Array.from(v.dataSync() as Float32Array));
const hostStep = (adam: HostDenseAdam, grad: (k: string, s: number) => Float32Array, s: number) =>
  adam.apply(new Map(Object.keys(shapes).map((k) => [k, grad(k, s)])));
function tfStep(adam: TfDenseAdam, grad: (k: string, s: number) => Float32Array, s: number) {
  const g = new Map(Object.entries(shapes).map(([k, sh]) => [k, tf.tensor(grad(k, s), sh)]));
  adam.apply(g);
  tf.dispose([...g.values()]);
}

describe('DenseAdam', () => {
  it('step size: lr·√(1−β₂ᵗ)/(1−β₁ᵗ)', () => {
    expect(adamStepSize(1, { learningRate: 1e-3 })).toBeCloseTo(1e-3 * Math.sqrt(0.001) / 0.1, 15);
  });

  it('host and tf moments give the same weights (float rounding) and leak no tensors', () => {
    const before = tf.memory().numTensors;
    const h = setup();
    const t = setup();
    const host = new HostDenseAdam(h.vars, { learningRate: 1e-2 }, 0.1);
    const dev = new TfDenseAdam(t.vars, { learningRate: 1e-2 }, 0.1);
    for (let s = 0; s < 4; s++) {
      hostStep(host, h.grad, s);
      tfStep(dev, t.grad, s);
    }
    const hv = values(h.vars);
    values(t.vars).forEach((v, i) => v.forEach((x, j) => expect(x).toBeCloseTo((hv[i] as Float32Array)[j] as number, 6)));
    expect(host.step).toBe(4);
    expect(dev.step).toBe(4);
    dev.dispose();
    tf.dispose([...h.vars.values(), ...t.vars.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('state() then restore() continues bit for bit, across host and tf moments', () => {
    const a = setup();
    const ref = new HostDenseAdam(a.vars, { learningRate: 1e-2 });
    for (let s = 0; s < 5; s++) hostStep(ref, a.grad, s);
    // interrupted after 2 steps: weights and moments carried into fresh optimizers (host → tf → host)
    const b = setup();
    const first = new HostDenseAdam(b.vars, { learningRate: 1e-2 });
    for (let s = 0; s < 2; s++) hostStep(first, b.grad, s);
    const mid = new TfDenseAdam(b.vars, { learningRate: 1e-2 });
    mid.restore(first.state());
    expect(mid.state().step).toBe(2);
    const last = new HostDenseAdam(b.vars, { learningRate: 1e-2 });
    last.restore(mid.state());
    for (let s = 2; s < 5; s++) hostStep(last, b.grad, s);
    values(b.vars).forEach((v, i) => expect(v).toEqual(values(a.vars)[i]));
    mid.dispose();
    tf.dispose([...a.vars.values(), ...b.vars.values()]);
  });

  it('restore() of a state from another model names the variable', () => {
    const a = setup();
    const adam = new HostDenseAdam(a.vars, { learningRate: 1e-2 });
    expect(() => adam.restore({ step: 1, m: new Map(), v: new Map() })).toThrow(/no m for variable a\/kernel/);
    tf.dispose([...a.vars.values()]);
  });
});
