import type { Rng } from '../../../pipeline/rng.js';

/** Adam hyper-parameters shared by the token table and the dense variables. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** A sparse gradient of the token table: the rows used (ascending ids) and their gradients, rows × dim. */
export interface RowGrads {
  readonly ids: Int32Array;
  readonly grads: Float32Array;
}

/** Draws a standard normal value (Box–Muller) from a seeded generator. */
export function normal(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * The token embedding table, held on the CPU as a Float32Array: a batch touches a few thousand of its 30k rows, so
 * the lookup, the scatter of the gradient and a lazy Adam update (only the rows a batch used, as TF's LazyAdam)
 * cost O(batch tokens) instead of O(vocabulary) per step. (tfjs-wasm also has no gradient kernel for gather.)
 */
export class TokenTable {
  readonly weights: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private step = 0;
  /** Scratch: token id → its row in a RowGrads (-1 when unused); reset after each scatter. */
  private slot: Int32Array | undefined;

  constructor(readonly vocabSize: number, readonly dim: number, init: Float32Array | Rng) {
    if (init instanceof Float32Array) {
      if (init.length !== vocabSize * dim) throw new Error(`token table: expected ${vocabSize}×${dim} weights, got ${init.length}`);
      this.weights = init;
    } else {
      // N(0, 1), as torch.nn.Embedding initialises
      this.weights = new Float32Array(vocabSize * dim);
      for (let i = 0; i < this.weights.length; i++) this.weights[i] = normal(init);
    }
    this.m = new Float32Array(vocabSize * dim);
    this.v = new Float32Array(vocabSize * dim);
  }

  /** Checks every id is inside the vocabulary; a bad id names the document. */
  check(docs: readonly Int32Array[]): void {
    for (let b = 0; b < docs.length; b++) {
      for (const id of docs[b] as Int32Array) {
        if (id < 0 || id >= this.vocabSize) throw new Error(`token id ${id} of document ${b} is outside the vocabulary (0..${this.vocabSize - 1}); was it tokenized with another tokenizer?`);
      }
    }
  }

  /** Mean of each document's token rows: B × dim. */
  meanPool(docs: readonly Int32Array[]): Float32Array {
    const E = this.dim;
    const w = this.weights;
    const out = new Float32Array(docs.length * E);
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const o = b * E;
      for (let t = 0; t < ids.length; t++) {
        const r = (ids[t] as number) * E;
        for (let e = 0; e < E; e++) out[o + e] = (out[o + e] as number) + (w[r + e] as number);
      }
      const inv = 1 / Math.max(1, ids.length);
      for (let e = 0; e < E; e++) out[o + e] = (out[o + e] as number) * inv;
    }
    return out;
  }

  /** Token rows padded to `length`: B × length × dim, and the B × length mask (1 for a token, 0 for padding). */
  gather(docs: readonly Int32Array[], length: number): { x: Float32Array; mask: Float32Array } {
    const E = this.dim;
    const x = new Float32Array(docs.length * length * E);
    const mask = new Float32Array(docs.length * length);
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const n = Math.min(ids.length, length);
      for (let t = 0; t < n; t++) {
        mask[b * length + t] = 1;
        x.set(this.weights.subarray((ids[t] as number) * E, (ids[t] as number) * E + E), (b * length + t) * E);
      }
    }
    return { x, mask };
  }

  /** Gradient of a mean pool, scattered to the rows it used. */
  meanPoolBackward(docs: readonly Int32Array[], grad: Float32Array): RowGrads {
    const E = this.dim;
    const { ids: used, slot } = this.rowSlots(docs, Infinity);
    const out = new Float32Array(used.length * E);
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const inv = 1 / Math.max(1, ids.length);
      const g = b * E;
      for (let t = 0; t < ids.length; t++) {
        const o = (slot[ids[t] as number] as number) * E;
        for (let e = 0; e < E; e++) out[o + e] = (out[o + e] as number) + (grad[g + e] as number) * inv;
      }
    }
    this.releaseSlots(used);
    return { ids: used, grads: out };
  }

  /** Gradient of `gather`, scattered to the rows it used. */
  gatherBackward(docs: readonly Int32Array[], length: number, grad: Float32Array): RowGrads {
    const E = this.dim;
    const { ids: used, slot } = this.rowSlots(docs, length);
    const out = new Float32Array(used.length * E);
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const n = Math.min(ids.length, length);
      for (let t = 0; t < n; t++) {
        const o = (slot[ids[t] as number] as number) * E;
        const g = (b * length + t) * E;
        for (let e = 0; e < E; e++) out[o + e] = (out[o + e] as number) + (grad[g + e] as number);
      }
    }
    this.releaseSlots(used);
    return { ids: used, grads: out };
  }

  /** Sum of squares of a row gradient (for global-norm clipping). */
  static sumSquares(rows: RowGrads): number {
    let s = 0;
    const g = rows.grads;
    for (let i = 0; i < g.length; i++) s += (g[i] as number) * (g[i] as number);
    return s;
  }

  /** One lazy Adam step on the rows that have a gradient, gradients scaled by `scale` (clipping). */
  adamStep(rows: RowGrads, opts: AdamOptions, scale = 1, weightDecay = 0): void {
    const { learningRate: lr, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = opts;
    this.step++;
    const a = (lr * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    const E = this.dim;
    const { m, v, weights: w } = this;
    const decay = lr * weightDecay;
    for (let r = 0; r < rows.ids.length; r++) {
      const o = (rows.ids[r] as number) * E;
      const go = r * E;
      for (let e = 0; e < E; e++) {
        const gi = (rows.grads[go + e] as number) * scale;
        const mi = beta1 * (m[o + e] as number) + (1 - beta1) * gi;
        const vi = beta2 * (v[o + e] as number) + (1 - beta2) * gi * gi;
        m[o + e] = mi;
        v[o + e] = vi;
        const wi = w[o + e] as number;
        w[o + e] = wi - a * mi / (Math.sqrt(vi) + epsilon) - decay * wi;
      }
    }
  }

  /**
   * The distinct token ids of a batch in ascending order (so float sums never depend on arrival order), and
   * `slot[id]` = its row in a RowGrads. Call releaseSlots() after use.
   */
  private rowSlots(docs: readonly Int32Array[], length: number): { ids: Int32Array; slot: Int32Array } {
    const slot = (this.slot ??= new Int32Array(this.vocabSize).fill(-1));
    const used: number[] = [];
    for (const ids of docs) {
      const n = Math.min(ids.length, length);
      for (let t = 0; t < n; t++) {
        const id = ids[t] as number;
        if (slot[id] === -1) { slot[id] = 0; used.push(id); }
      }
    }
    const sorted = Int32Array.from(used).sort();
    for (let k = 0; k < sorted.length; k++) slot[sorted[k] as number] = k;
    return { ids: sorted, slot };
  }

  /** Resets the scratch slots rowSlots() set. */
  private releaseSlots(ids: Int32Array): void {
    const slot = this.slot as Int32Array;
    for (let k = 0; k < ids.length; k++) slot[ids[k] as number] = -1;
  }

  /** Optimizer state for checkpoints. */
  optimizerState(): { step: number; m: Float32Array; v: Float32Array } {
    return { step: this.step, m: this.m, v: this.v };
  }

  /** Restores optimizer state saved by `optimizerState()`. */
  restoreOptimizerState(s: { step: number; m: Float32Array; v: Float32Array }): void {
    this.step = s.step;
    this.m.set(s.m);
    this.v.set(s.v);
  }
}
