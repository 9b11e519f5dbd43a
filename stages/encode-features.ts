import _ from 'highland';
import type { RunContext } from '../pipeline/context.js';
import { FatalError, intAtLeast } from '../pipeline/errors.js';
import { parallelMap } from '../pipeline/parallel-map.js';
import { chunkStream } from '../pipeline/chunk-stream.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import { WorkerPool } from '../pipeline/worker-pool.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import {
  checkCudaProvider, inspectPretrainedDir, PretrainedEncoder, type EncoderDevice, type Pooling, type PretrainedModelInfo,
} from './adapters/onnx-encoder.js';
import type { EncodeRequest, EncodeWorkerInit } from './encode-worker.js';
import { flattenIds } from './tokenize-worker.js';

/** How to open a pretrained encoder. */
export interface FeatureEncoderOptions {
  /** Model directory: config.json, tokenizer.json, onnx/model.onnx (a local Hugging Face download with its ONNX export). */
  readonly model: string;
  /** `cpu` (default) or `cuda`; cuda without its provider is a FatalError, never a CPU run. */
  readonly device?: EncoderDevice;
  /** `mean` (default, masked mean of last_hidden_state) or `cls` (first token). */
  readonly pooling?: Pooling;
  /** ONNX Runtime intra-op threads. Default 1; 0 = every core. */
  readonly threads?: number;
  /** Run the session on a worker thread (default true), so encoding overlaps whatever the main thread does (the train step). */
  readonly worker?: boolean;
}

/** An open pretrained encoder, on a worker thread or the calling one. Whoever opened it closes it. */
export interface FeatureEncoder {
  readonly info: PretrainedModelInfo;
  readonly pooling: Pooling;
  readonly device: EncoderDevice;
  /** Size of one feature vector (config.json hidden_size). */
  readonly dim: number;
  /** Pooled features of a batch, B × dim, row b for docs[b]. */
  encode(docs: readonly Int32Array[]): Promise<Float32Array>;
  /** Releases the session (and its worker thread). */
  close(): Promise<void>;
}

const WORKER_MODULE = new URL(`./encode-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/**
 * Opens a pretrained encoder and runs one empty batch through it, so a bad directory, a model ONNX Runtime cannot
 * load or a missing CUDA provider fails here, once, as a FatalError naming the file (also from a worker thread).
 */
export async function openFeatureEncoder(opts: FeatureEncoderOptions): Promise<FeatureEncoder> {
  const info = inspectPretrainedDir(opts.model);
  const device = opts.device ?? 'cpu';
  const pooling = opts.pooling ?? 'mean';
  // checked on this thread too: the advice should not depend on how a worker reports its death
  if (device === 'cuda') checkCudaProvider();
  const init: EncodeWorkerInit = { model: info.dir, device, pooling, threads: opts.threads ?? 1 };
  // runs a consumer abandoned (prefetched batches of a stopped stream) must end before the session goes: tearing down
  // a worker thread while ONNX Runtime is inside a run aborts the whole process
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    const forget = () => inFlight.delete(p);
    p.then(forget, forget);
    return p;
  };
  // their results and errors went to whoever asked for them; here only their end matters
  const settle = () => Promise.allSettled([...inFlight]);
  if (opts.worker === false) {
    const enc = await PretrainedEncoder.load(info.dir, init);
    return {
      info, pooling, device, dim: info.hiddenSize,
      encode: (docs) => track(enc.encode(docs)),
      close: async () => {
        await settle();
        await enc.dispose();
      },
    };
  }
  const pool = new WorkerPool<EncodeWorkerInit, EncodeRequest, Float32Array>(WORKER_MODULE, init, 1);
  const encode = (docs: readonly Int32Array[]): Promise<Float32Array> => track(encodeOnWorker(docs));
  const encodeOnWorker = async (docs: readonly Int32Array[]): Promise<Float32Array> => {
    const { ids, offsets } = flattenIds(docs);
    try {
      return await pool.run({ ids, offsets }, [ids.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer]);
    } catch (e) {
      // the worker's FatalError arrives as a plain Error: restore the class so the exit code and the report say fatal
      const err = e as Error;
      throw err.name === 'FatalError'
        ? new FatalError(err.message, { file: info.modelFile, cause: e })
        : err;
    }
  };
  try {
    // one real document, so a model that loads but cannot run fails here too
    await encode([Int32Array.from([info.padId])]);
  } catch (e) {
    await pool.close();
    throw e;
  }
  return {
    info, pooling, device, dim: info.hiddenSize, encode,
    close: async () => {
      await settle();
      await pool.close();
    },
  };
}

/** Options of the encode-features stage. */
export interface EncodeFeaturesOptions {
  /** Documents per encoder run (the encoder's batch size; bench/encoder/README.md has the figures). Default 64 documents. */
  readonly batchSize?: number;
  /** Encoder batches in flight ahead of the consumer; the read-ahead is at most prefetch × batchSize documents. Default 2 batches. */
  readonly prefetch?: number;
}

const positiveInt = (field: string, v: number, hint: string): number => intAtLeast(`encode-features.${field}`, v, 1, hint);

/**
 * TokenizedDoc → the same doc with `features`: the frozen encoder's pooled output, in input order, `batchSize`
 * documents per encoder run and at most `prefetch` runs ahead of the consumer. Given options instead of an open
 * encoder, it opens one at the first pull and closes it when the stream ends (or when the run context closes).
 * Counters: `encode-features.batches`, `encode-features.records`.
 * use: docs.through(tokenize(ctx, { tokenizer: dir })).through(encodeFeatures(ctx, encoder, { batchSize: 64 }))
 */
export function encodeFeatures(ctx: RunContext, encoder: FeatureEncoder | FeatureEncoderOptions, opts: EncodeFeaturesOptions = {}): Stage<TokenizedDoc, TokenizedDoc> {
  const scope = ctx.scope('encode-features');
  const batchSize = positiveInt('batchSize', opts.batchSize ?? 64, 'it is the number of documents per encoder run');
  const prefetch = positiveInt('prefetch', opts.prefetch ?? 2, 'use 1 for no read-ahead beyond the running batch');
  return named('encode-features', (src: Stream<TokenizedDoc>): Stream<TokenizedDoc> => {
    let opened: Promise<FeatureEncoder> | undefined;
    const own = !('encode' in encoder);
    const get = (): Promise<FeatureEncoder> => {
      if (!own) return Promise.resolve(encoder as FeatureEncoder);
      if (!opened) {
        opened = openFeatureEncoder(encoder as FeatureEncoderOptions);
        ctx.defer(close);
      }
      return opened;
    };
    const close = async (): Promise<void> => {
      const p = opened;
      opened = undefined;
      if (p) await (await p).close();
    };
    const run = async (docs: TokenizedDoc[]) => {
      const enc = await get();
      const features = await enc.encode(docs.map((d) => d.ids));
      return { docs, features, dim: enc.dim };
    };
    return chunkStream(src, batchSize)
      .through(parallelMap(prefetch, run, 'encode-features'))
      .consume<TokenizedDoc>((err, x, push, next) => {
        if (err) {
          push(err);
          next();
        } else if (_.isNil(x)) {
          void (own ? close() : Promise.resolve()).then(() => push(null, _.nil), (e: unknown) => { push(e as Error); push(null, _.nil); });
        } else {
          const { docs, features, dim } = x as Awaited<ReturnType<typeof run>>;
          scope.count('batches');
          scope.count('records', docs.length);
          // a copy per document: a view would keep the whole batch's buffer alive while any of its docs waits in a pool
          docs.forEach((doc, i) => push(null, { ...doc, features: features.slice(i * dim, (i + 1) * dim) }));
          next();
        }
      });
  });
}
