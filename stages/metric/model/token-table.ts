import type { Rng } from '../../../pipeline/rng.js';

/** Adam hyper-parameters shared by the token table and the dense variables. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
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
    const out = new Float32Array(docs.length * E);
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const o = b * E;
      for (const id of ids) {
        const r = id * E;
        for (let e = 0; e < E; e++) out[o + e] = (out[o + e] as number) + (this.weights[r + e] as number);
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

  /** Gradient of a mean pool, scattered to rows: row → summed gradient. */
  meanPoolBackward(docs: readonly Int32Array[], grad: Float32Array): Map<number, Float32Array> {
    const E = this.dim;
    const rows = new Map<number, Float32Array>();
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const inv = 1 / Math.max(1, ids.length);
      for (const id of ids) {
        let g = rows.get(id);
        if (!g) rows.set(id, (g = new Float32Array(E)));
        for (let e = 0; e < E; e++) g[e] = (g[e] as number) + (grad[b * E + e] as number) * inv;
      }
    }
    return rows;
  }

  /** Gradient of `gather`, scattered to rows. */
  gatherBackward(docs: readonly Int32Array[], length: number, grad: Float32Array): Map<number, Float32Array> {
    const E = this.dim;
    const rows = new Map<number, Float32Array>();
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const n = Math.min(ids.length, length);
      for (let t = 0; t < n; t++) {
        const id = ids[t] as number;
        let g = rows.get(id);
        if (!g) rows.set(id, (g = new Float32Array(E)));
        const o = (b * length + t) * E;
        for (let e = 0; e < E; e++) g[e] = (g[e] as number) + (grad[o + e] as number);
      }
    }
    return rows;
  }

  /** Sum of squares of a row gradient (for global-norm clipping). */
  static sumSquares(rows: Map<number, Float32Array>): number {
    let s = 0;
    for (const g of rows.values()) for (const x of g) s += x * x;
    return s;
  }

  /** One lazy Adam step on the rows that have a gradient, gradients scaled by `scale` (clipping). */
  adamStep(rows: Map<number, Float32Array>, opts: AdamOptions, scale = 1, weightDecay = 0): void {
    const { learningRate: lr, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = opts;
    this.step++;
    const a = (lr * Math.sqrt(1 - beta2 ** this.step)) / (1 - beta1 ** this.step);
    const E = this.dim;
    // sorted so float sums do not depend on the map's insertion order
    for (const id of [...rows.keys()].sort((x, y) => x - y)) {
      const g = rows.get(id) as Float32Array;
      const o = id * E;
      for (let e = 0; e < E; e++) {
        const gi = (g[e] as number) * scale;
        const mi = beta1 * (this.m[o + e] as number) + (1 - beta1) * gi;
        const vi = beta2 * (this.v[o + e] as number) + (1 - beta2) * gi * gi;
        this.m[o + e] = mi;
        this.v[o + e] = vi;
        const w = this.weights[o + e] as number;
        this.weights[o + e] = w - a * mi / (Math.sqrt(vi) + epsilon) - lr * weightDecay * w;
      }
    }
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
