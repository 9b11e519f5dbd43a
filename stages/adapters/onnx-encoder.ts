// The only file that imports ONNX Runtime (onnxruntime-node), and only when an encoder is loaded.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { FatalError } from '../../pipeline/errors.js';

/** Where an encoder runs: `cpu` (default), or `cuda` (needs the CUDA execution provider of onnxruntime-node). */
export type EncoderDevice = 'cpu' | 'cuda';
/** How token states become one vector: `mean` over the attention mask (sentence-transformers), or `cls` (the first token's state). */
export type Pooling = 'mean' | 'cls';

/** The files of a pretrained model directory and what its config.json says. */
export interface PretrainedModelInfo {
  /** The directory, absolute. */
  readonly dir: string;
  readonly configFile: string;
  readonly tokenizerFile: string;
  readonly modelFile: string;
  /** config.json `hidden_size` (or `dim`, `d_model`): the size of the pooled features. */
  readonly hiddenSize: number;
  /** config.json `max_position_embeddings`: the longest input the model takes, in tokens. */
  readonly maxPositions: number;
  /** config.json `vocab_size`. */
  readonly vocabSize: number;
  /** config.json `pad_token_id` (default 0). */
  readonly padId: number;
  /** config.json `model_type` (e.g. `bert`), for reports. */
  readonly modelType: string;
}

/** Options of `PretrainedEncoder.load`. */
export interface PretrainedEncoderOptions {
  /** Default `cpu`. `cuda` never falls back to the CPU: a missing provider or GPU is a FatalError. */
  readonly device?: EncoderDevice;
  /** Default `mean`. */
  readonly pooling?: Pooling;
  /** ONNX Runtime intra-op threads; default 1; 0 lets ONNX Runtime use every core. */
  readonly threads?: number;
  /** CUDA device number; default 0. */
  readonly deviceId?: number;
  /** How a batch is cut into length-sorted session runs; see `lengthRuns`. */
  readonly runs?: LengthRunOptions;
}

/** How `lengthRuns` cuts a batch. */
export interface LengthRunOptions {
  /** Fewest documents in a run (so matrix products stay large), unless fewer are left. Default 16 documents. */
  readonly minDocs?: number;
  /** Padding a run may add beyond that, as a fraction of its real tokens. Default 0.25. */
  readonly maxPadding?: number;
}

/**
 * Cuts a batch into session runs of similar lengths: document indices sorted by length (ties in input order), a run
 * takes at least `minDocs` of them and grows while its padded size (docs × longest) stays within 1 + maxPadding of
 * its real tokens. Short texts then do not pay for the batch's longest one (on banking77, 14 tokens median and 35
 * max, this doubled the embeddings/s of a 64-document batch; bench/encoder/README.md).
 */
export function lengthRuns(docs: readonly { length: number }[], opts: LengthRunOptions = {}): number[][] {
  const minDocs = opts.minDocs ?? 16;
  const maxPadding = opts.maxPadding ?? 0.25;
  const order = Array.from(docs.keys()).sort((i, j) => (docs[i] as { length: number }).length - (docs[j] as { length: number }).length || i - j);
  const runs: number[][] = [];
  let run: number[] = [];
  let tokens = 0;
  for (const i of order) {
    const len = Math.max(1, (docs[i] as { length: number }).length);
    // sorted ascending: the newcomer is the run's longest document
    if (run.length >= minDocs && (run.length + 1) * len > (tokens + len) * (1 + maxPadding)) {
      runs.push(run);
      run = [];
      tokens = 0;
    }
    run.push(i);
    tokens += len;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** What a pretrained model directory must hold, for error messages. */
export const PRETRAINED_LAYOUT = 'expected a local Hugging Face model directory with an ONNX export: '
  + 'DIR/config.json, DIR/tokenizer.json and DIR/onnx/model.onnx (for example a downloaded sentence-transformers/all-MiniLM-L6-v2 '
  + 'with its onnx/ folder; scripts/make-onnx-fixture.py builds one offline)';

/** How to get the CUDA provider, for error messages. */
export const CUDA_INSTALL_HINT = 'install the CUDA execution provider of onnxruntime-node: set `onnxruntime-node-install=cuda12` in .npmrc '
  + '(this project ships `onnxruntime-node-install=skip`) or ONNXRUNTIME_NODE_INSTALL=cuda12 in the environment, then reinstall onnxruntime-node '
  + '(`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js`, or `rm -rf node_modules/onnxruntime-node && npm install` '
  + 'with its install script allowed); it downloads the provider libraries, and running them needs an NVIDIA driver with the CUDA 12 and cuDNN 9 '
  + 'libraries on the library path. Or pass --encoder-device cpu';

const OUTPUT_NAMES = ['last_hidden_state', 'token_embeddings'];

/**
 * Checks a model directory without loading anything heavy: the three files exist and config.json has the sizes the
 * encoder needs. A missing or malformed file is a FatalError naming the file and the expected layout.
 */
export function inspectPretrainedDir(dir: string): PretrainedModelInfo {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new FatalError(`pretrained encoder: ${abs} is not a directory; ${PRETRAINED_LAYOUT}`, { file: abs });
  }
  const configFile = join(abs, 'config.json');
  const tokenizerFile = join(abs, 'tokenizer.json');
  const modelFile = join(abs, 'onnx', 'model.onnx');
  for (const f of [configFile, tokenizerFile, modelFile]) {
    if (!existsSync(f)) throw new FatalError(`pretrained encoder: ${f} is missing; ${PRETRAINED_LAYOUT}`, { file: f });
  }
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new FatalError(`pretrained encoder: ${configFile} is not valid JSON (${(e as Error).message}); ${PRETRAINED_LAYOUT}`, { file: configFile, cause: e });
  }
  const int = (keys: string[], fallback?: number): number => {
    for (const k of keys) if (Number.isInteger(cfg[k]) && (cfg[k] as number) >= 0) return cfg[k] as number;
    if (fallback !== undefined) return fallback;
    throw new FatalError(`pretrained encoder: ${configFile} has no integer ${keys.join(' / ')}; expected a Hugging Face config.json (as BERT's)`, { file: configFile });
  };
  return {
    dir: abs,
    configFile,
    tokenizerFile,
    modelFile,
    hiddenSize: int(['hidden_size', 'dim', 'd_model']),
    maxPositions: int(['max_position_embeddings', 'n_positions'], 512),
    vocabSize: int(['vocab_size']),
    padId: int(['pad_token_id'], 0),
    modelType: typeof cfg.model_type === 'string' ? cfg.model_type : 'unknown',
  };
}

/** The folder onnxruntime-node loads its native libraries from (where the CUDA provider must be installed). */
export function onnxRuntimeBinDir(): string {
  const main = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Throws a FatalError saying how to install the CUDA provider unless `binDir` holds it. Checked before a session is
 * made, so a machine without it gets advice instead of ONNX Runtime's library-loading message, and never a CPU run.
 */
export function checkCudaProvider(binDir: string = onnxRuntimeBinDir(), platform = `${process.platform}/${process.arch}`): void {
  if (platform !== 'linux/x64' && platform !== 'win32/x64') {
    throw new FatalError(`--encoder-device cuda: onnxruntime-node has no CUDA provider for ${platform} (only linux/x64 and win32/x64); pass --encoder-device cpu`);
  }
  const lib = platform === 'win32/x64' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (!existsSync(join(binDir, lib))) {
    throw new FatalError(`--encoder-device cuda: the CUDA execution provider is not installed (${join(binDir, lib)} is missing; onnxruntime-node ships only the CPU one); ${CUDA_INSTALL_HINT}`);
  }
}

/**
 * A frozen pretrained encoder: token ids → pooled last_hidden_state, through an ONNX Runtime session (local files
 * only; nothing is downloaded). Holds no tfjs tensor; its output is a plain Float32Array.
 */
export class PretrainedEncoder {
  private constructor(
    readonly info: PretrainedModelInfo,
    readonly pooling: Pooling,
    readonly device: EncoderDevice,
    private readonly session: InferenceSession,
    private readonly ort: typeof import('onnxruntime-node'),
    private readonly inputs: ReadonlyMap<string, 'int64' | 'int32'>,
    private readonly output: string,
    private readonly runOptions: LengthRunOptions,
  ) {}

  /** The size of one pooled vector (config.json hidden_size). */
  get dim(): number {
    return this.info.hiddenSize;
  }

  /** Checks the directory, then opens an ONNX Runtime session on `device`. FatalError on any problem, naming the file. */
  static async load(dir: string, opts: PretrainedEncoderOptions = {}): Promise<PretrainedEncoder> {
    const info = inspectPretrainedDir(dir);
    const device = opts.device ?? 'cpu';
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 0) throw new FatalError(`pretrained encoder: threads must be an integer >= 0 (got ${threads}); 0 lets ONNX Runtime use every core`);
    if (device === 'cuda') checkCudaProvider();
    const ort = await import('onnxruntime-node');
    const options: InferenceSession.SessionOptions = {
      executionProviders: device === 'cuda' ? [{ name: 'cuda', deviceId: opts.deviceId ?? 0 }] : ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    };
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(info.modelFile, options);
    } catch (e) {
      const msg = (e as Error).message.replace(/\u001b\[[0-9;]*m/g, '').trim();
      if (device === 'cuda') throw new FatalError(`--encoder-device cuda: ONNX Runtime could not start the CUDA provider (${msg}); ${CUDA_INSTALL_HINT}`, { file: info.modelFile, cause: e });
      throw new FatalError(`pretrained encoder: ONNX Runtime cannot load ${info.modelFile} (${msg}); ${PRETRAINED_LAYOUT}`, { file: info.modelFile, cause: e });
    }
    const inputs = new Map<string, 'int64' | 'int32'>();
    for (const m of session.inputMetadata) {
      const type = m.isTensor ? m.type : undefined;
      if (type !== 'int64' && type !== 'int32') {
        await session.release();
        throw new FatalError(`pretrained encoder: ${info.modelFile} input ${m.name} is ${type ?? 'not a tensor'}; expected int64 or int32 token inputs`, { file: info.modelFile });
      }
      inputs.set(m.name, type);
    }
    const unknown = [...inputs.keys()].filter((n) => !['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'].includes(n));
    const output = OUTPUT_NAMES.find((n) => session.outputNames.includes(n));
    if (!inputs.has('input_ids') || unknown.length > 0 || !output) {
      const have = `inputs ${[...inputs.keys()].join(', ')}; outputs ${session.outputNames.join(', ')}`;
      await session.release();
      throw new FatalError(`pretrained encoder: ${info.modelFile} has ${have}; expected a feature-extraction export with input_ids [attention_mask, token_type_ids] and ${OUTPUT_NAMES.join(' or ')}`, { file: info.modelFile });
    }
    return new PretrainedEncoder(info, opts.pooling ?? 'mean', device, session, ort, inputs, output, opts.runs ?? {});
  }

  /**
   * Pooled features of a batch of tokenized documents (each with its special tokens, at most maxPositions long):
   * B × dim, row b for docs[b]. The batch runs as length-sorted sub-batches, each padded to its own longest
   * document (see `lengthRuns`); padding never changes a row.
   */
  async encode(docs: readonly Int32Array[]): Promise<Float32Array> {
    const B = docs.length;
    const H = this.info.hiddenSize;
    for (let b = 0; b < B; b++) {
      const d = docs[b] as Int32Array;
      if (d.length > this.info.maxPositions) {
        throw new FatalError(`pretrained encoder: a document has ${d.length} tokens but ${this.info.configFile} allows ${this.info.maxPositions} (max_position_embeddings); lower --max-length`);
      }
      for (let t = 0; t < d.length; t++) {
        const id = d[t] as number;
        if (id < 0 || id >= this.info.vocabSize) {
          throw new FatalError(`pretrained encoder: token id ${id} is outside the model's vocabulary (0..${this.info.vocabSize - 1}); the corpus was tokenized with another tokenizer than ${this.info.tokenizerFile}`);
        }
      }
    }
    const out = new Float32Array(B * H);
    for (const run of lengthRuns(docs, this.runOptions)) {
      const pooled = await this.encodeRun(run.map((i) => docs[i] as Int32Array));
      run.forEach((i, r) => out.set(pooled.subarray(r * H, (r + 1) * H), i * H));
    }
    return out;
  }

  /** One session run on documents padded to the longest of them. */
  private async encodeRun(docs: readonly Int32Array[]): Promise<Float32Array> {
    const B = docs.length;
    const H = this.info.hiddenSize;
    let L = 1;
    for (const d of docs) L = Math.max(L, d.length);
    const ids = new BigInt64Array(B * L).fill(BigInt(this.info.padId));
    const mask = new BigInt64Array(B * L);
    for (let b = 0; b < B; b++) {
      const d = docs[b] as Int32Array;
      for (let t = 0; t < d.length; t++) {
        ids[b * L + t] = BigInt(d[t] as number);
        mask[b * L + t] = 1n;
      }
    }
    const feeds: Record<string, Tensor> = {};
    const tensor = (name: string, data: BigInt64Array) => {
      feeds[name] = this.inputs.get(name) === 'int32'
        ? new this.ort.Tensor('int32', Int32Array.from(data, (x) => Number(x)), [B, L])
        : new this.ort.Tensor('int64', data, [B, L]);
    };
    tensor('input_ids', ids);
    if (this.inputs.has('attention_mask')) tensor('attention_mask', mask);
    if (this.inputs.has('token_type_ids')) tensor('token_type_ids', new BigInt64Array(B * L));
    if (this.inputs.has('position_ids')) {
      const pos = new BigInt64Array(B * L);
      for (let i = 0; i < B * L; i++) pos[i] = BigInt(i % L);
      tensor('position_ids', pos);
    }
    const result = await this.session.run(feeds, [this.output]);
    const out = result[this.output] as Tensor;
    try {
      const [ob, ol, oh] = out.dims;
      if (out.type !== 'float32' || out.dims.length !== 3 || ob !== B || ol !== L || oh !== H) {
        throw new FatalError(`pretrained encoder: ${this.output} is ${out.type} [${out.dims.join(', ')}]; expected float32 [${B}, ${L}, ${H}] (hidden_size in ${this.info.configFile})`, { file: this.info.modelFile });
      }
      return pool(out.data as Float32Array, docs, L, H, this.pooling);
    } finally {
      out.dispose();
    }
  }

  /** Releases the ONNX Runtime session. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Pools B × L × H token states into B × H: the masked mean (over each document's own tokens) or the first token. */
export function pool(h: Float32Array, docs: readonly Int32Array[], L: number, H: number, pooling: Pooling): Float32Array {
  const B = docs.length;
  const out = new Float32Array(B * H);
  for (let b = 0; b < B; b++) {
    const n = pooling === 'cls' ? 1 : Math.max(1, (docs[b] as Int32Array).length);
    const o = b * H;
    for (let t = 0; t < n; t++) {
      const r = (b * L + t) * H;
      for (let e = 0; e < H; e++) out[o + e] = (out[o + e] as number) + (h[r + e] as number);
    }
    if (n > 1) {
      const inv = 1 / n;
      for (let e = 0; e < H; e++) out[o + e] = (out[o + e] as number) * inv;
    }
  }
  return out;
}
