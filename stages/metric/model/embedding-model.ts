import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseConfig } from '../../../pipeline/config.js';
import type { TokenizedDoc } from '../../../schemas/tokenized-doc.js';
import { FatalError } from '../../../pipeline/errors.js';
import { Rng } from '../../../pipeline/rng.js';
import { EmbeddingModelOptionsSchema, type EmbeddingModelOptions, type EmbeddingModelOptionsInput } from './embedding-model-options.js';
import { dense } from './dense.js';
import type { HeadLayer } from './host-head.js';
import { TokenTable, normal, type RowGrads } from './token-table.js';

/** The encoder's input for one batch, computed on the CPU from the token table (or the pretrained encoder's features). */
export interface EncoderInput {
  /** bag: B × E pooled rows; transformer: B × L × E token rows; pretrained: B × E features. */
  readonly x: Float32Array;
  readonly shape: [number, number] | [number, number, number];
  /** transformer: B × L mask (1 = token). */
  readonly mask?: Float32Array;
  readonly docs: readonly Int32Array[];
}

const MODEL_FILE = 'model.json';
// variable names must be unique per tfjs engine: several models (train, eval, tests) live side by side
let nextModelId = 0;
const WEIGHTS_FILE = 'weights.bin';

/**
 * Encoder + fully connected head + L2 normalisation, in TensorFlow.js. The token table lives on the CPU
 * (see TokenTable); everything after the lookup is tf variables trained by the optimizer.
 */
export class EmbeddingModel {
  readonly table: TokenTable;
  /** Dense variables by name, in creation order (stable for saving and clipping). */
  readonly variables = new Map<string, tf.Variable>();
  private readonly uid = nextModelId++;

  private constructor(readonly options: EmbeddingModelOptions, table: TokenTable) {
    this.table = table;
  }

  /** A freshly initialised model; all weights come from `seed` (PyTorch-style initialisation). */
  static create(input: EmbeddingModelOptionsInput, seed: number): EmbeddingModel {
    const options = parseConfig(EmbeddingModelOptionsSchema, input, 'model');
    const rng = Rng.derive(seed, 'model');
    // a pretrained model's tokens live in the frozen encoder: no table to train
    const m = new EmbeddingModel(options, new TokenTable(options.encoder === 'pretrained' ? 0 : options.vocabSize, options.embeddingDim, rng));
    const E = options.embeddingDim;
    const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * bound);
    const linear = (name: string, inDim: number, outDim: number) => {
      // torch.nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for weights and bias
      const b = 1 / Math.sqrt(inDim);
      m.addVar(`${name}/kernel`, tf.tensor2d(uniform(inDim * outDim, b), [inDim, outDim]));
      m.addVar(`${name}/bias`, tf.tensor1d(uniform(outDim, b)));
    };
    if (options.encoder === 'transformer') {
      const F = options.ffnDim ?? 4 * E;
      m.addVar('encoder/positions', tf.tensor2d(Float32Array.from({ length: options.maxLength * E }, () => normal(rng) * 0.02), [options.maxLength, E]));
      for (let l = 0; l < options.layers; l++) {
        for (const p of ['q', 'k', 'v', 'o']) linear(`encoder/layer${l}/attention/${p}`, E, E);
        m.addVar(`encoder/layer${l}/ln1/gamma`, tf.ones([E]));
        m.addVar(`encoder/layer${l}/ln1/beta`, tf.zeros([E]));
        linear(`encoder/layer${l}/ffn/in`, E, F);
        linear(`encoder/layer${l}/ffn/out`, F, E);
        m.addVar(`encoder/layer${l}/ln2/gamma`, tf.ones([E]));
        m.addVar(`encoder/layer${l}/ln2/beta`, tf.zeros([E]));
      }
    }
    let inDim = E;
    options.head.forEach((outDim, i) => {
      linear(`head/dense${i}`, inDim, outDim);
      inDim = outDim;
    });
    return m;
  }

  /** The embedding size (the head's last layer). */
  get outputDim(): number {
    return this.options.head[this.options.head.length - 1] as number;
  }

  /** The encoder input of documents: their features for `pretrained`, else the token lookup of their ids. */
  inputOf(docs: readonly TokenizedDoc[]): EncoderInput {
    if (this.options.encoder !== 'pretrained') return this.input(docs.map((d) => d.ids));
    const E = this.options.embeddingDim;
    const x = new Float32Array(docs.length * E);
    docs.forEach((d, b) => {
      if (d.features?.length !== E) {
        throw new Error(`pretrained model: document ${d.id} has ${d.features ? `${d.features.length} features` : 'no features'}, expected ${E}; run the encoder (encode-features) or read a feature cache made with the same encoder`);
      }
      x.set(d.features, b * E);
    });
    return { x, shape: [docs.length, E], docs: docs.map((d) => d.ids) };
  }

  /** The CPU side of the forward pass: token lookup (and mean pooling for `bag`). */
  input(docs: readonly Int32Array[]): EncoderInput {
    if (this.options.encoder === 'pretrained') throw new Error('pretrained model: the input is encoder features, not token ids; use inputOf(docs)');
    this.table.check(docs);
    const E = this.options.embeddingDim;
    if (this.options.encoder === 'bag') return { x: this.table.meanPool(docs), shape: [docs.length, E], docs };
    const L = Math.min(this.options.maxLength, Math.max(1, ...docs.map((d) => d.length)));
    const { x, mask } = this.table.gather(docs, L);
    return { x, mask, shape: [docs.length, L, E], docs };
  }

  /**
   * The tf side of the forward pass: encoder input tensor → B × D embeddings, L2-normalised when the model says so
   * and `normalize` is not false (training leaves it to the loss, which normalises on the CPU with fewer tf ops).
   */
  forward(x: tf.Tensor, input: EncoderInput, normalize = this.options.normalize): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor2D = this.options.encoder === 'transformer' ? this.transformer(x as tf.Tensor3D, input) : (x as tf.Tensor2D);
      this.options.head.forEach((_d, i) => {
        h = dense(h, this.v(`head/dense${i}/kernel`) as tf.Variable<tf.Rank.R2>, this.v(`head/dense${i}/bias`) as tf.Variable<tf.Rank.R1>);
        if (i < this.options.head.length - 1) h = tf.relu(h);
      });
      if (this.options.outputActivation === 'softmax') h = tf.softmax(h);
      if (normalize) h = tf.div(h, tf.maximum(tf.norm(h, 'euclidean', 1, true), 1e-12));
      return h;
    });
  }

  /** The head's layers in order, with their variables (for training on the host, `host-head.ts`). */
  headLayers(): HeadLayer[] {
    return this.options.head.map((_d, i) => {
      const kernelKey = `head/dense${i}/kernel`;
      const biasKey = `head/dense${i}/bias`;
      return { kernelKey, biasKey, kernel: this.v(kernelKey), bias: this.v(biasKey) };
    });
  }

  /** The token rows' gradient, from the gradient of the encoder input. */
  inputBackward(input: EncoderInput, grad: Float32Array): RowGrads {
    // the pretrained encoder is frozen: its features get no update
    if (this.options.encoder === 'pretrained') return { ids: new Int32Array(0), grads: new Float32Array(0) };
    return this.options.encoder === 'bag'
      ? this.table.meanPoolBackward(input.docs, grad)
      : this.table.gatherBackward(input.docs, input.shape[1], grad);
  }

  /** Embeddings of token id lists (token encoders only), in batches, without gradients: rows of a Float32Array (N × D). */
  embed(docs: readonly Int32Array[], batchSize = 256): Float32Array {
    return this.embedInputs(docs.length, batchSize, (from, to) => this.input(docs.slice(from, to)));
  }

  /** Embeddings of documents (ids, or features for `pretrained`), in batches, without gradients: N × D. */
  embedDocs(docs: readonly TokenizedDoc[], batchSize = 256): Float32Array {
    return this.embedInputs(docs.length, batchSize, (from, to) => this.inputOf(docs.slice(from, to)));
  }

  private embedInputs(n: number, batchSize: number, inputAt: (from: number, to: number) => EncoderInput): Float32Array {
    const D = this.outputDim;
    const out = new Float32Array(n * D);
    for (let i = 0; i < n; i += batchSize) {
      const input = inputAt(i, Math.min(n, i + batchSize));
      const e = tf.tidy(() => this.forward(tf.tensor(input.x, input.shape), input).dataSync() as Float32Array);
      out.set(e, i * D);
    }
    return out;
  }

  /** Writes the model (tfjs weights format: model.json + weights.bin) atomically into `dir`. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const tokens = this.options.encoder === 'pretrained' ? undefined : tf.tensor2d(this.table.weights, [this.table.vocabSize, this.table.dim]);
    const named: tf.NamedTensorMap = tokens ? { 'encoder/tokens': tokens } : {};
    for (const [k, v] of this.variables) named[k] = v;
    const { data, specs } = await tf.io.encodeWeights(named);
    tokens?.dispose();
    const manifest = {
      format: 'tripletflow-embedding-model',
      version: 1,
      options: this.options,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
    };
    // temporary files then rename, so a crash never leaves a half-written model
    await writeFile(join(dir, `${WEIGHTS_FILE}.tmp`), Buffer.from(data));
    await writeFile(join(dir, `${MODEL_FILE}.tmp`), JSON.stringify(manifest, null, 2));
    await rename(join(dir, `${WEIGHTS_FILE}.tmp`), join(dir, WEIGHTS_FILE));
    await rename(join(dir, `${MODEL_FILE}.tmp`), join(dir, MODEL_FILE));
  }

  /** Loads a model written by `save`; a missing or malformed file is a FatalError naming it. */
  static async load(dir: string): Promise<EmbeddingModel> {
    const path = join(dir, MODEL_FILE);
    let manifest: { format?: string; options?: unknown; weightsManifest?: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
    try {
      manifest = JSON.parse(await readFile(path, 'utf8')) as typeof manifest;
    } catch (e) {
      throw new FatalError(`${path}: cannot read the model (${(e as Error).message}); expected a directory written by \`tripletflow train --out\` (model/model.json + weights.bin)`, { file: path, cause: e });
    }
    if (manifest.format !== 'tripletflow-embedding-model' || !manifest.weightsManifest?.[0]) {
      throw new FatalError(`${path}: not a tripletflow embedding model (format "${manifest.format}")`, { file: path });
    }
    let buf: Buffer;
    try {
      buf = await readFile(join(dir, WEIGHTS_FILE));
    } catch (e) {
      throw new FatalError(`${join(dir, WEIGHTS_FILE)}: cannot read the weights (${(e as Error).message})`, { file: join(dir, WEIGHTS_FILE), cause: e });
    }
    const options = parseConfig(EmbeddingModelOptionsSchema, manifest.options, 'model.options');
    const tensors = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, manifest.weightsManifest[0].weights);
    const tokens = tensors['encoder/tokens'];
    if (!tokens && options.encoder !== 'pretrained') throw new FatalError(`${path}: the weights have no encoder/tokens table`, { file: path });
    const table = tokens
      ? new TokenTable(options.vocabSize, options.embeddingDim, Float32Array.from(tokens.dataSync() as Float32Array))
      : new TokenTable(0, options.embeddingDim, new Float32Array(0));
    tokens?.dispose();
    const m = new EmbeddingModel(options, table);
    for (const [k, t] of Object.entries(tensors)) {
      if (k === 'encoder/tokens') continue;
      m.addVar(k, t);
      t.dispose();
    }
    return m;
  }

  /** Frees every tf variable. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  private addVar(name: string, init: tf.Tensor): void {
    this.variables.set(name, tf.variable(init, true, `${name}#${this.uid}`));
    init.dispose();
  }

  private v(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new Error(`model has no variable ${name}`);
    return v;
  }

  private transformer(x: tf.Tensor3D, input: EncoderInput): tf.Tensor2D {
    const [B, L, E] = x.shape;
    const H = this.options.heads;
    const dh = E / H;
    const mask = tf.tensor2d(input.mask as Float32Array, [B, L]);
    // additive attention mask: padding keys get -1e9 before the softmax
    const keyBias = tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [B, 1, 1, L]);
    let h: tf.Tensor3D = tf.add(x, tf.slice(this.v('encoder/positions'), [0, 0], [L, E]));
    const linear = (t: tf.Tensor3D, name: string): tf.Tensor3D => {
      const k = this.v(`${name}/kernel`);
      const out = k.shape[1] as number;
      return tf.reshape(dense(tf.reshape(t, [B * L, t.shape[2]]), k as tf.Variable<tf.Rank.R2>, this.v(`${name}/bias`) as tf.Variable<tf.Rank.R1>), [B, L, out]);
    };
    const heads = (t: tf.Tensor3D) => tf.transpose(tf.reshape(t, [B, L, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
    const layerNorm = (t: tf.Tensor3D, name: string): tf.Tensor3D => {
      const { mean, variance } = tf.moments(t, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-12))), this.v(`${name}/gamma`)), this.v(`${name}/beta`));
    };
    for (let l = 0; l < this.options.layers; l++) {
      const p = `encoder/layer${l}`;
      const q = heads(linear(h, `${p}/attention/q`));
      const k = heads(linear(h, `${p}/attention/k`));
      const v = heads(linear(h, `${p}/attention/v`));
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), keyBias);
      const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [B, L, E]) as tf.Tensor3D;
      h = layerNorm(tf.add(h, linear(ctx, `${p}/attention/o`)), `${p}/ln1`);
      h = layerNorm(tf.add(h, linear(tf.relu(linear(h, `${p}/ffn/in`)), `${p}/ffn/out`)), `${p}/ln2`);
    }
    if (this.options.pooling === 'cls') return tf.reshape(tf.slice(h, [0, 0, 0], [B, 1, E]), [B, E]);
    const m3 = tf.reshape(mask, [B, L, 1]);
    return tf.div(tf.sum(tf.mul(h, m3), 1), tf.maximum(tf.sum(m3, 1), 1)) as tf.Tensor2D;
  }
}

