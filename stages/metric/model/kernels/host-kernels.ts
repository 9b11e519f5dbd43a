import { HOST_KERNELS_WASM } from './host-kernels-wasm.js';

/** The functions of host-kernels.wat; pointers are byte offsets into `memory`, counts are elements. */
interface KernelExports {
  mean_pool(w: number, E: number, ids: number, offs: number, B: number, out: number): void;
  mean_pool_backward(grad: number, E: number, slots: number, offs: number, B: number, out: number): void;
  adam(w: number, m: number, v: number, g: number, n: number, ...hyper: AdamArgs): void;
  adam_rows(w: number, m: number, v: number, E: number, rows: number, count: number, g: number, ...hyper: AdamArgs): void;
  gemm(A: number, B: number, C: number, M: number, K: number, N: number, transA: number): void;
  bias_act(x: number, bias: number, rows: number, cols: number, relu: number): void;
  colsum(x: number, rows: number, cols: number, out: number): void;
  relu_mask(g: number, a: number, n: number): void;
  transpose(src: number, rows: number, cols: number, dst: number): void;
}

/** a, β₁, 1 − β₁, β₂, 1 − β₂, ε, decay, gradient scale (see host-kernels.wat `$adam`). */
type AdamArgs = [number, number, number, number, number, number, number, number];

/** Adam's per-step numbers for a kernel call. */
export interface AdamKernelArgs {
  /** The step size lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ). */
  readonly stepSize: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled weight decay per step (lr × weight decay). */
  readonly decay: number;
  /** Gradient scale (clipping); 1 for none. */
  readonly scale: number;
}

const PAGE = 65536;
/** Room for scratch beyond the persistent buffers: the most memory may grow to, in pages (1 GiB). */
const SCRATCH_PAGES = 16384;
let compiled: WebAssembly.Module | undefined;

function adamArgs(a: AdamKernelArgs): AdamArgs {
  return [a.stepSize, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.epsilon, a.decay, a.scale];
}

/**
 * One instance of the host kernels with its own memory: persistent buffers (`alloc`) first, then a scratch area
 * (`scratch`) reused by each call. The memory is a shared one (no thread uses it but this one): growing it keeps
 * every view made before valid, so a view of a persistent buffer can be handed out and kept.
 */
export class HostKernels {
  private readonly k: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private top = 16;

  /** `reserveBytes`: the persistent buffers planned, allocated up front so that they never need the memory to grow. */
  constructor(reserveBytes = 0) {
    compiled ??= new WebAssembly.Module(Buffer.from(HOST_KERNELS_WASM, 'base64'));
    const initial = Math.ceil((reserveBytes + 16) / PAGE) + 1;
    this.memory = new WebAssembly.Memory({ initial, maximum: Math.min(65536, initial + SCRATCH_PAGES), shared: true });
    this.k = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as KernelExports;
  }

  /** A persistent buffer of `n` 4-byte elements, zeroed; returns its byte offset. Call before any scratch use. */
  alloc(n: number): number {
    const off = this.top;
    this.top = align(off + 4 * n);
    this.ensure(this.top);
    return off;
  }

  /**
   * A scratch area holding buffers of the given element counts (4-byte elements, 16-byte aligned); returns their
   * byte offsets. Valid until the next `scratch` call; the contents are not zeroed.
   */
  scratch(...counts: number[]): number[] {
    let off = this.top;
    const offsets = counts.map((n) => {
      const o = off;
      off = align(off + 4 * n);
      return o;
    });
    this.ensure(off);
    return offsets;
  }

  /** A Float32Array view of `n` elements at byte offset `off`. */
  f32(off: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, off, n);
  }

  /** An Int32Array view of `n` elements at byte offset `off`. */
  i32(off: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, off, n);
  }

  /** out (B × E) = mean of the table rows `w[ids[t]]` of each document; documents are `ids[offs[b] .. offs[b + 1]]`. */
  meanPool(w: number, E: number, ids: number, offs: number, B: number, out: number): void {
    this.k.mean_pool(w, E, ids, offs, B, out);
  }

  /** out[slots[t]] += grad[b] / max(1, length of b) for each token t of document b; out is zeroed first by the caller. */
  meanPoolBackward(grad: number, E: number, slots: number, offs: number, B: number, out: number): void {
    this.k.mean_pool_backward(grad, E, slots, offs, B, out);
  }

  /** One Adam step on `n` contiguous weights, their moments and gradients. */
  adam(w: number, m: number, v: number, g: number, n: number, a: AdamKernelArgs): void {
    this.k.adam(w, m, v, g, n, ...adamArgs(a));
  }

  /** One lazy Adam step on table rows `rows[0 .. count)` (E weights each) with gradient rows `g` in that order. */
  adamRows(w: number, m: number, v: number, E: number, rows: number, count: number, g: number, a: AdamKernelArgs): void {
    this.k.adam_rows(w, m, v, E, rows, count, g, ...adamArgs(a));
  }

  /** C (M × N) = A (M × K) · B (K × N), row-major; with `transA`, A is stored transposed (K × M). */
  gemm(A: number, B: number, C: number, M: number, K: number, N: number, transA = false): void {
    this.k.gemm(A, B, C, M, K, N, transA ? 1 : 0);
  }

  /** x (rows × cols) += bias on every row, then max(0, x) when `relu`. */
  biasAct(x: number, bias: number, rows: number, cols: number, relu: boolean): void {
    this.k.bias_act(x, bias, rows, cols, relu ? 1 : 0);
  }

  /** out (cols) = the sum of the rows of x (rows × cols). */
  colSum(x: number, rows: number, cols: number, out: number): void {
    this.k.colsum(x, rows, cols, out);
  }

  /** g[i] = 0 where a[i] is not > 0: the gradient through a ReLU whose output is `a`. */
  reluMask(g: number, a: number, n: number): void {
    this.k.relu_mask(g, a, n);
  }

  /** dst (cols × rows) = src (rows × cols) transposed. */
  transpose(src: number, rows: number, cols: number, dst: number): void {
    this.k.transpose(src, rows, cols, dst);
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
