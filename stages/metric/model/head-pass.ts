import * as tf from '@tensorflow/tfjs';

/** One fully connected layer of the head: its variables and their keys in the model. */
export interface HeadLayer {
  readonly kernelKey: string;
  readonly biasKey: string;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

/** What the head's backward pass needs from its forward pass, on the host. */
export interface HeadTape {
  readonly rows: number;
  /** inputs[i]: the input of layer i (after the previous layer's ReLU), rows × in_i. */
  readonly inputs: readonly Float32Array[];
  /** inputsT[i]: inputs[i] transposed, in_i × rows. */
  readonly inputsT: readonly Float32Array[];
  /** weights[i]: layer i's kernel (in_i × out_i) and bias, host copies of the values the pass used. */
  readonly weights: readonly { readonly kernel: Float32Array; readonly bias: Float32Array }[];
  /** rows × out of the last layer (no activation). */
  readonly output: Float32Array;
}

/** The head's gradients, and the weights they were computed with (host copies, the caller's to keep or change). */
export interface HeadGrads {
  /** d loss / d head input, rows × in_0. */
  readonly dx: Float32Array;
  /** By variable key. */
  readonly grads: Map<string, Float32Array>;
  readonly weights: Map<string, Float32Array>;
}

/** `a` (rows × cols, row-major) transposed. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = a[o + c] as number;
  }
  return t;
}

/** a · b of host matrices (n × k and k × m), by one tf.matMul kernel on the active backend; no tensor survives. */
function matMul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
  // manual disposal, not tf.tidy: dataSync inside tidy is much slower on the wasm backend (see tfGram)
  const ta = tf.tensor2d(a, [n, k]);
  const tb = tf.tensor2d(b, [k, m]);
  const c = tf.matMul(ta, tb);
  try {
    return c.dataSync() as Float32Array;
  } finally {
    tf.dispose([ta, tb, c]);
  }
}

/** Host copies of a variable's values (the cpu backend's dataSync returns the tensor's own array). */
function read(v: tf.Variable): Float32Array {
  return (v.dataSync() as Float32Array).slice();
}

/*
 * Every product is arranged so that its right operand is a batch-sized matrix: tfjs-wasm hands the right operand to
 * XNNPACK as "weights", packed anew for each new tensor, which for a 128 × 256 kernel costs about as much as the
 * product itself; a 64-row batch matrix packs 2–4× faster. Transposes are host loops (tfjs-wasm's matMul with
 * transposeA/B takes a slow path, see dense.ts).
 */

/**
 * The head's forward pass for training, one tf.matMul kernel per layer (yᵀ = Wᵀ·hᵀ), the bias and the ReLU between
 * layers on the host; each layer's input is kept for `headBackward`.
 */
export function headForward(layers: readonly HeadLayer[], x: Float32Array, rows: number): HeadTape {
  const B = rows;
  const inputs: Float32Array[] = [];
  const inputsT: Float32Array[] = [];
  const weights: { kernel: Float32Array; bias: Float32Array }[] = [];
  let h = x;
  layers.forEach((l, i) => {
    const [inDim, outDim] = l.kernel.shape as [number, number];
    const kernel = read(l.kernel);
    const bias = read(l.bias);
    weights.push({ kernel, bias });
    const hT = transpose(h, B, inDim);
    inputs.push(h);
    inputsT.push(hT);
    const yT = matMul(transpose(kernel, inDim, outDim), hT, outDim, inDim, B);
    const relu = i < layers.length - 1;
    const y = new Float32Array(B * outDim);
    for (let o = 0; o < outDim; o++) {
      const bo = bias[o] as number;
      const src = o * B;
      for (let r = 0; r < B; r++) {
        const z = (yT[src + r] as number) + bo;
        y[r * outDim + o] = relu && !(z > 0) ? 0 : z;
      }
    }
    h = y;
  });
  return { rows, inputs, inputsT, weights, output: h };
}

/**
 * Backward pass of `headForward` from dy = d loss / d output: per layer dW = hᵀ·dz and daᵀ = W·dzᵀ, one tf.matMul
 * kernel each; bias gradients, transposes and ReLU masks on the host.
 */
export function headBackward(layers: readonly HeadLayer[], tape: HeadTape, dy: Float32Array): HeadGrads {
  const B = tape.rows;
  const grads = new Map<string, Float32Array>();
  const weights = new Map<string, Float32Array>();
  let dz = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i] as HeadLayer;
    const [inDim, outDim] = l.kernel.shape as [number, number];
    const { kernel, bias } = tape.weights[i] as { kernel: Float32Array; bias: Float32Array };
    weights.set(l.kernelKey, kernel);
    weights.set(l.biasKey, bias);
    const db = new Float32Array(outDim);
    for (let r = 0; r < B; r++) {
      const o = r * outDim;
      for (let c = 0; c < outDim; c++) db[c] = (db[c] as number) + (dz[o + c] as number);
    }
    grads.set(l.biasKey, db);
    grads.set(l.kernelKey, matMul(tape.inputsT[i] as Float32Array, dz, inDim, B, outDim));
    const daT = matMul(kernel, transpose(dz, B, outDim), inDim, outDim, B);
    const a = tape.inputs[i] as Float32Array;
    const da = new Float32Array(B * inDim);
    // a (i > 0) is the previous layer's ReLU output: the gradient passes where it is positive
    for (let c = 0; c < inDim; c++) {
      const src = c * B;
      for (let r = 0; r < B; r++) {
        const j = r * inDim + c;
        da[j] = i > 0 && !((a[j] as number) > 0) ? 0 : (daT[src + r] as number);
      }
    }
    dz = da;
  }
  return { dx: dz, grads, weights };
}
