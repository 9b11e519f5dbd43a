import * as tf from '@tensorflow/tfjs';
import type { AdamOptions } from './token-table.js';

/** Adam's moments of the dense variables, by the model's variable key, and the number of steps taken. */
export interface DenseAdamState {
  readonly step: number;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
}

/**
 * Adam's step size at step `t` in the "epsilon hat" form (Kingma & Ba 2015, end of section 2; TF's Adam):
 * lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ), computed in float64 from `t` alone, so a resumed run recomputes it bit for bit.
 */
export function adamStepSize(t: number, { learningRate: lr, beta1 = 0.9, beta2 = 0.999 }: AdamOptions): number {
  return (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
}

/**
 * Adam on the model's dense variables (Kingma & Ba 2015, with decoupled weight decay as AdamW, Loshchilov & Hutter
 * 2019), the same update as the token table's. The moments live either on the host (`HostHead`, host-head.ts, the
 * wasm/cpu fast path) or in tf variables (`TfDenseAdam`, for backends where the weights stay on the device); both
 * save and restore the same state.
 */
export interface DenseAdam {
  /** Steps taken. */
  readonly step: number;
  /** A copy of the moments (for checkpoints). */
  state(): DenseAdamState;
  /** Puts back moments saved by `state()`; a missing or mis-sized variable throws, naming it. */
  restore(s: DenseAdamState): void;
  /** Frees what the optimizer holds on the backend. */
  dispose(): void;
}

/** Throws, naming the variable, when `s` lacks a moment of one of `variables` or has one of another size. */
export function checkState(s: DenseAdamState, variables: ReadonlyMap<string, tf.Variable>): void {
  for (const [k, w] of variables) {
    for (const [which, map] of [['m', s.m], ['v', s.v]] as const) {
      const a = map.get(k);
      if (!a) throw new Error(`dense Adam state: no ${which} for variable ${k}; the state was saved from another model configuration`);
      if (a.length !== w.size) throw new Error(`dense Adam state: ${which} of ${k} has ${a.length} numbers, the variable ${w.size}`);
    }
  }
}

/** Adam with its moments in tf variables: the update runs as tf kernels on the variables' backend. */
export class TfDenseAdam implements DenseAdam {
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(private readonly variables: ReadonlyMap<string, tf.Variable>, private readonly opts: AdamOptions, private readonly weightDecay = 0) {
    for (const [k, w] of variables) {
      for (const moments of [this.m, this.v]) {
        const zeros = tf.zerosLike(w);
        moments.set(k, tf.variable(zeros, false));
        zeros.dispose();
      }
    }
  }

  get step(): number {
    return this.t;
  }

  /** One step from gradient tensors (by variable key, each scaled by `scale`); the gradients stay the caller's. */
  apply(grads: ReadonlyMap<string, tf.Tensor>, scale = 1): void {
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = this.opts;
    this.t++;
    const a = adamStepSize(this.t, this.opts);
    const keep = 1 - this.opts.learningRate * this.weightDecay;
    tf.tidy(() => {
      for (const [k, w] of this.variables) {
        const g0 = grads.get(k);
        if (!g0) continue;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = this.m.get(k) as tf.Variable;
        const v = this.v.get(k) as tf.Variable;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const step = tf.div(tf.mul(m, a), tf.add(tf.sqrt(v), epsilon));
        w.assign(tf.sub(keep === 1 ? w : tf.mul(w, keep), step));
      }
    });
  }

  state(): DenseAdamState {
    const read = (src: Map<string, tf.Variable>) => new Map([...src].map(([k, t]) => [k, (t.dataSync() as Float32Array).slice()]));
    return { step: this.t, m: read(this.m), v: read(this.v) };
  }

  restore(s: DenseAdamState): void {
    checkState(s, this.variables);
    this.t = s.step;
    for (const [k, w] of this.variables) {
      for (const [mine, saved] of [[this.m, s.m], [this.v, s.v]] as const) {
        const t = tf.tensor(saved.get(k) as Float32Array, w.shape);
        (mine.get(k) as tf.Variable).assign(t);
        t.dispose();
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
