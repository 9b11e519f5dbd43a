import type { Rng } from '../../../pipeline/rng.js';
import { adamStepSize } from './dense-adam.js';
import { HostKernels } from './kernels/host-kernels.js';

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
 * The token embedding table, held on the CPU in the memory of a host-kernels instance (WebAssembly, SIMD): a batch
 * touches a few thousand of its 30k rows, so the lookup, the scatter of the gradient and a lazy Adam update (only the
 * rows a batch used, as TF's LazyAdam) cost O(batch tokens) instead of O(vocabulary) per step. (tfjs-wasm also has
 * no gradient kernel for gather.)
 */
export class TokenTable {
  private readonly k: HostKernels;
  /** Byte offsets of the weights and Adam's moments in the kernels' memory (vocabSize × dim each). */
  private readonly wOff: number;
  private readonly mOff: number;
  private readonly vOff: number;
  private step = 0;
  /** Scratch: token id → its row in a RowGrads (-1 when unused); reset after each scatter. */
  private slot: Int32Array | undefined;

  constructor(readonly vocabSize: number, readonly dim: number, init: Float32Array | Rng) {
    const n = vocabSize * dim;
    if (init instanceof Float32Array && init.length !== n) throw new Error(`token table: expected ${vocabSize}×${dim} weights, got ${init.length}`);
    this.k = new HostKernels(3 * 4 * n + 3 * 16);
    this.wOff = this.k.alloc(n);
    this.mOff = this.k.alloc(n);
    this.vOff = this.k.alloc(n);
    this.weights = this.k.f32(this.wOff, n);
    const w = this.weights;
    if (init instanceof Float32Array) w.set(init);
    // N(0, 1), as torch.nn.Embedding initialises
    else for (let i = 0; i < n; i++) w[i] = normal(init);
  }

  /** The weights, vocabSize × dim, row-major (a view of the table itself: writes change the table). */
  readonly weights: Float32Array;

  /** Checks every id is inside the vocabulary; a bad id names the document. */
  check(docs: readonly Int32Array[]): void {
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t] as number;
        if (id < 0 || id >= this.vocabSize) throw new Error(`token id ${id} of document ${b} is outside the vocabulary (0..${this.vocabSize - 1}); was it tokenized with another tokenizer?`);
      }
    }
  }

  /** Mean of each document's token rows: B × dim (a new array). */
  meanPool(docs: readonly Int32Array[]): Float32Array {
    const E = this.dim;
    const B = docs.length;
    const tokens = countTokens(docs, Infinity);
    const [ids, offs, out] = this.k.scratch(tokens, B + 1, B * E) as [number, number, number];
    packDocs(docs, Infinity, this.k.i32(ids, tokens), this.k.i32(offs, B + 1));
    this.k.meanPool(this.wOff, E, ids, offs, B, out);
    return this.k.f32(out, B * E).slice();
  }

  /** Token rows padded to `length`: B × length × dim, and the B × length mask (1 for a token, 0 for padding). */
  gather(docs: readonly Int32Array[], length: number): { x: Float32Array; mask: Float32Array } {
    const E = this.dim;
    const x = new Float32Array(docs.length * length * E);
    const mask = new Float32Array(docs.length * length);
    const w = this.weights;
    for (let b = 0; b < docs.length; b++) {
      const ids = docs[b] as Int32Array;
      const n = Math.min(ids.length, length);
      for (let t = 0; t < n; t++) {
        mask[b * length + t] = 1;
        x.set(w.subarray((ids[t] as number) * E, (ids[t] as number) * E + E), (b * length + t) * E);
      }
    }
    return { x, mask };
  }

  /** Gradient of a mean pool, scattered to the rows it used. */
  meanPoolBackward(docs: readonly Int32Array[], grad: Float32Array): RowGrads {
    const E = this.dim;
    const B = docs.length;
    const { ids: used, slot } = this.rowSlots(docs, Infinity);
    const tokens = countTokens(docs, Infinity);
    const [slots, offs, g, out] = this.k.scratch(tokens, B + 1, B * E, used.length * E) as [number, number, number, number];
    const slotView = this.k.i32(slots, tokens);
    packDocs(docs, Infinity, slotView, this.k.i32(offs, B + 1));
    for (let t = 0; t < tokens; t++) slotView[t] = slot[slotView[t] as number] as number;
    this.releaseSlots(used);
    this.k.f32(g, B * E).set(grad);
    this.k.f32(out, used.length * E).fill(0);
    this.k.meanPoolBackward(g, E, slots, offs, B, out);
    return { ids: used, grads: this.k.f32(out, used.length * E).slice() };
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
    const stepSize = adamStepSize(this.step, opts);
    const E = this.dim;
    const count = rows.ids.length;
    const [ids, g] = this.k.scratch(count, count * E) as [number, number];
    this.k.i32(ids, count).set(rows.ids);
    this.k.f32(g, count * E).set(rows.grads);
    this.k.adamRows(this.wOff, this.mOff, this.vOff, E, ids, count, g, { stepSize, beta1, beta2, epsilon, decay: lr * weightDecay, scale });
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

  /** Optimizer state for checkpoints (views of the table's moments). */
  optimizerState(): { step: number; m: Float32Array; v: Float32Array } {
    const n = this.vocabSize * this.dim;
    return { step: this.step, m: this.k.f32(this.mOff, n), v: this.k.f32(this.vOff, n) };
  }

  /** Restores optimizer state saved by `optimizerState()`. */
  restoreOptimizerState(s: { step: number; m: Float32Array; v: Float32Array }): void {
    const n = this.vocabSize * this.dim;
    this.step = s.step;
    this.k.f32(this.mOff, n).set(s.m);
    this.k.f32(this.vOff, n).set(s.v);
  }
}

/** Tokens of the documents, each cut to `length`. */
function countTokens(docs: readonly Int32Array[], length: number): number {
  let n = 0;
  for (const ids of docs) n += Math.min(ids.length, length);
  return n;
}

/** Writes the documents' ids (each cut to `length`) one after another into `ids`, and their starts into `offs` (B + 1). */
function packDocs(docs: readonly Int32Array[], length: number, ids: Int32Array, offs: Int32Array): void {
  let t = 0;
  for (let b = 0; b < docs.length; b++) {
    const d = docs[b] as Int32Array;
    offs[b] = t;
    const n = Math.min(d.length, length);
    ids.set(n === d.length ? d : d.subarray(0, n), t);
    t += n;
  }
  offs[docs.length] = t;
}
