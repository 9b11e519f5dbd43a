import * as tf from '@tensorflow/tfjs';
import type { Matrix } from '../matrix.js';
import { adamStepSize, checkState, type DenseAdam, type DenseAdamState } from './dense-adam.js';
import { HostKernels } from './kernels/host-kernels.js';
import type { AdamOptions } from './token-table.js';

/** One fully connected layer of the head: its variables and their keys in the model. */
export interface HeadLayer {
  readonly kernelKey: string;
  readonly biasKey: string;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

/** Byte offsets of one layer's weights and Adam moments in the kernels' memory. */
interface LayerMemory {
  readonly inDim: number;
  readonly outDim: number;
  readonly w: number;
  readonly b: number;
  readonly mw: number;
  readonly vw: number;
  readonly mb: number;
  readonly vb: number;
}

/** Byte offsets of one step's activations and gradients (the scratch area), for `rows` documents. */
interface StepMemory {
  readonly rows: number;
  /** act[i]: input of layer i (rows × in_i); act[L]: the output. */
  readonly act: number[];
  /** dz[i]: d loss / d output of layer i (rows × out_i), before its ReLU. */
  readonly dz: number[];
  readonly dx: number;
  readonly dW: number[];
  readonly db: number[];
  /** Room for one transposed kernel. */
  readonly wT: number;
}

/**
 * The fully connected head (ReLU between layers) of a bag or pretrained model, trained on the host: weights, Adam moments,
 * activations and gradients live in the memory of a host-kernels instance (WebAssembly, SIMD), the products run
 * in its gemm kernel. No tf kernel runs: tfjs-wasm's matMul packs its right operand anew for every new tensor,
 * which costs as much as the product itself at this size (bench/train/README.md). The tf variables stay the
 * model's: they are read back whenever something else assigned them (a checkpoint restore) and written after
 * every update, so evaluation and saving see the trained weights.
 */
export class HostHead implements DenseAdam {
  private t = 0;
  private readonly k: HostKernels;
  private readonly mem: LayerMemory[];
  /** The variables' dataIds when the host weights were last in sync with them. */
  private synced: unknown[] = [];
  private stepMem: StepMemory | undefined;

  constructor(private readonly layers: readonly HeadLayer[], private readonly opts: AdamOptions, private readonly weightDecay = 0) {
    let bytes = 0;
    for (const l of layers) bytes += 3 * (4 * (l.kernel.size + l.bias.size) + 32);
    this.k = new HostKernels(bytes);
    this.mem = layers.map((l) => {
      const [inDim, outDim] = l.kernel.shape as [number, number];
      const n = inDim * outDim;
      return { inDim, outDim, w: this.k.alloc(n), b: this.k.alloc(outDim), mw: this.k.alloc(n), vw: this.k.alloc(n), mb: this.k.alloc(outDim), vb: this.k.alloc(outDim) };
    });
  }

  get step(): number {
    return this.t;
  }

  /** The head's output (rows × out) for `x` (rows × in), keeping what `backward` needs. */
  forward(x: Float32Array, rows: number): Float32Array {
    this.pull();
    const s = this.layout(rows);
    const L = this.mem.length;
    this.k.f32(s.act[0] as number, x.length).set(x);
    this.mem.forEach((m, i) => {
      const out = s.act[i + 1] as number;
      this.k.gemm(s.act[i] as number, m.w, out, rows, m.inDim, m.outDim);
      this.k.biasAct(out, m.b, rows, m.outDim, i < L - 1);
    });
    return this.k.f32(s.act[L] as number, rows * (this.mem[L - 1] as LayerMemory).outDim).slice();
  }

  /**
   * From dy = d loss / d output of the last `forward`: the kernel and bias gradients (kept), and d loss / d x (empty
   * when `inputGrad` is false: a frozen input).
   */
  backward(dy: Float32Array, inputGrad = true): Float32Array {
    const s = this.stepMem;
    if (!s) throw new Error('host head: backward before forward');
    const B = s.rows;
    this.k.f32(s.dz[this.mem.length - 1] as number, dy.length).set(dy);
    for (let i = this.mem.length - 1; i >= 0; i--) {
      const m = this.mem[i] as LayerMemory;
      const dz = s.dz[i] as number;
      this.k.colSum(dz, B, m.outDim, s.db[i] as number);
      // dW = actᵀ · dz: act (rows × in) is the transposed left operand as stored
      this.k.gemm(s.act[i] as number, dz, s.dW[i] as number, m.inDim, B, m.outDim, true);
      if (i === 0 && !inputGrad) break;
      // d act = dz · Wᵀ
      const da = i > 0 ? (s.dz[i - 1] as number) : s.dx;
      this.k.transpose(m.w, m.inDim, m.outDim, s.wT);
      this.k.gemm(dz, s.wT, da, B, m.outDim, m.inDim);
      if (i > 0) this.k.reluMask(da, s.act[i] as number, B * m.inDim);
    }
    return inputGrad ? this.k.f32(s.dx, B * (this.mem[0] as LayerMemory).inDim).slice() : new Float32Array(0);
  }

  /** Sum of squares of the gradients of the last `backward` (for global-norm clipping). */
  gradSumSquares(): number {
    const s = this.stepMem;
    if (!s) throw new Error('host head: no gradients yet');
    let sum = 0;
    this.mem.forEach((m, i) => {
      for (const g of [this.k.f32(s.dW[i] as number, m.inDim * m.outDim), this.k.f32(s.db[i] as number, m.outDim)]) {
        for (let j = 0; j < g.length; j++) sum += (g[j] as number) * (g[j] as number);
      }
    });
    return sum;
  }

  /** One Adam step with the gradients of the last `backward`, scaled by `scale`; the variables get the new weights. */
  applyAdam(scale = 1): void {
    const s = this.stepMem;
    if (!s) throw new Error('host head: no gradients yet');
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = this.opts;
    this.t++;
    const args = { stepSize: adamStepSize(this.t, this.opts), beta1, beta2, epsilon, decay: this.opts.learningRate * this.weightDecay, scale };
    this.mem.forEach((m, i) => {
      this.k.adam(m.w, m.mw, m.vw, s.dW[i] as number, m.inDim * m.outDim, args);
      this.k.adam(m.b, m.mb, m.vb, s.db[i] as number, m.outDim, args);
    });
    this.push();
  }

  state(): DenseAdamState {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    this.layers.forEach((l, i) => {
      const o = this.mem[i] as LayerMemory;
      const n = o.inDim * o.outDim;
      m.set(l.kernelKey, this.k.f32(o.mw, n).slice());
      v.set(l.kernelKey, this.k.f32(o.vw, n).slice());
      m.set(l.biasKey, this.k.f32(o.mb, o.outDim).slice());
      v.set(l.biasKey, this.k.f32(o.vb, o.outDim).slice());
    });
    return { step: this.t, m, v };
  }

  restore(s: DenseAdamState): void {
    // checked whole before anything is written
    checkState(s, new Map(this.layers.flatMap((l) => [[l.kernelKey, l.kernel], [l.biasKey, l.bias]] as const)));
    const get = (map: ReadonlyMap<string, Float32Array>, key: string) => map.get(key) as Float32Array;
    this.layers.forEach((l, i) => {
      const o = this.mem[i] as LayerMemory;
      const n = o.inDim * o.outDim;
      this.k.f32(o.mw, n).set(get(s.m, l.kernelKey));
      this.k.f32(o.vw, n).set(get(s.v, l.kernelKey));
      this.k.f32(o.mb, o.outDim).set(get(s.m, l.biasKey));
      this.k.f32(o.vb, o.outDim).set(get(s.v, l.biasKey));
    });
    this.t = s.step;
  }

  dispose(): void {}

  private variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  /** Reads the weights from the variables unless they are the ones this head wrote last. */
  private pull(): void {
    const vars = this.variables();
    if (vars.every((v, i) => v.dataId === this.synced[i])) return;
    this.layers.forEach((l, i) => {
      const o = this.mem[i] as LayerMemory;
      this.k.f32(o.w, o.inDim * o.outDim).set(l.kernel.dataSync() as Float32Array);
      this.k.f32(o.b, o.outDim).set(l.bias.dataSync() as Float32Array);
    });
    this.synced = vars.map((v) => v.dataId);
  }

  /** Writes the weights to the variables. */
  private push(): void {
    this.layers.forEach((l, i) => {
      const o = this.mem[i] as LayerMemory;
      // copies: the cpu backend keeps the array it is given as the tensor's storage
      for (const [v, off, n] of [[l.kernel, o.w, o.inDim * o.outDim], [l.bias, o.b, o.outDim]] as const) {
        const t = tf.tensor(this.k.f32(off, n).slice(), v.shape);
        v.assign(t);
        t.dispose();
      }
    });
    this.synced = this.variables().map((v) => v.dataId);
  }

  private layout(rows: number): StepMemory {
    const L = this.mem.length;
    const dims = [(this.mem[0] as LayerMemory).inDim, ...this.mem.map((m) => m.outDim)];
    const counts = [
      ...dims.map((d) => rows * d),
      ...this.mem.map((m) => rows * m.outDim),
      rows * (dims[0] as number),
      ...this.mem.map((m) => m.inDim * m.outDim),
      ...this.mem.map((m) => m.outDim),
      Math.max(...this.mem.map((m) => m.inDim * m.outDim)),
    ];
    const o = this.k.scratch(...counts);
    let p = 0;
    const take = (n: number) => o.slice(p, (p += n));
    this.stepMem = { rows, act: take(L + 1), dz: take(L), dx: take(1)[0] as number, dW: take(L), db: take(L), wT: take(1)[0] as number };
    return this.stepMem;
  }
}

let gramKernels: HostKernels | undefined;

/** The gram matrix x xᵀ of a batch by the host gemm kernel (the same numbers on every backend). */
export function hostGram(x: Matrix): Float32Array {
  const k = (gramKernels ??= new HostKernels());
  const { rows, cols } = x;
  const [a, aT, g] = k.scratch(rows * cols, rows * cols, rows * rows) as [number, number, number];
  k.f32(a, rows * cols).set(x.data);
  k.transpose(a, rows, cols, aT);
  k.gemm(a, aT, g, rows, cols, rows);
  return k.f32(g, rows * rows).slice();
}
