import { resolve } from 'node:path';
import type { FeatureCacheMeta } from '../../schemas/feature-cache.js';
import type { DataOptionsInput } from '../../schemas/data-options.js';
import type { TrainConfig } from '../../schemas/train-config.js';
import { inspectPretrainedDir, type PretrainedModelInfo } from '../../stages/adapters/onnx-encoder.js';
import { openFeatureEncoder, type FeatureEncoder } from '../../stages/encode-features.js';
import type { EmbeddingModelOptionsInput } from '../../stages/metric/model/embedding-model-options.js';
import { featureCacheOf, type DataGraphExtras } from '../data-graph.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';

/** What a run with a pretrained encoder changes: the data graphs (encoder, tokenizer) and the model (a head on features). */
export interface PretrainedSetup {
  /** The training input's feature cache metadata, when it is one (the encoder then does not run on it). */
  readonly cache: FeatureCacheMeta | undefined;
  /** Data options every graph of the run takes: the encoder's own tokenizer and token budget. */
  readonly data: Partial<DataOptionsInput>;
  /** Model options: `pretrained`, the feature size, the encoder directory and pooling. */
  readonly model: Partial<EmbeddingModelOptionsInput>;
  /** Data graph extras for `inputs`: the encoder, opened at the first call that needs it; none for a feature cache. */
  extrasFor(inputs: readonly string[]): Promise<DataGraphExtras>;
  /** Closes the encoder, if one was opened. */
  close(): Promise<void>;
}

/** A pretrained encoder tokenizes with its own tokenizer.json: another `--tokenizer` is a ConfigError. */
export function checkOwnTokenizer(modelDir: string, tokenizer: string | undefined): void {
  if (tokenizer && resolve(tokenizer) !== resolve(modelDir)) {
    throw new ConfigError('tokenizer', `a pretrained encoder uses its own tokenizer (${resolve(modelDir)}/tokenizer.json), not ${tokenizer}; leave --tokenizer out`);
  }
}

/** Reads the model directory's layout and config.json; a `maxLength` beyond its position embeddings is a ConfigError. */
export function checkPretrainedLength(modelDir: string, maxLength: number): PretrainedModelInfo {
  const info = inspectPretrainedDir(modelDir);
  if (maxLength > info.maxPositions) {
    throw new ConfigError('maxLength', `${maxLength} tokens is more than ${info.configFile} allows (max_position_embeddings ${info.maxPositions}); lower --max-length`);
  }
  return info;
}

/**
 * Resolves `--encoder pretrained` (or a feature cache given as --train) into data and model settings. Returns
 * undefined for the token encoders on a corpus that is not a feature cache: nothing changes for them.
 * `givenEncoder` is the encoder the user typed (before defaults), to refuse a token encoder on a feature cache.
 */
export async function setupPretrained(cfg: TrainConfig, givenEncoder: unknown, log: Logger): Promise<PretrainedSetup | undefined> {
  const cache = await featureCacheOf(cfg.inputs, cfg.format);
  if (!cache && cfg.encoder !== 'pretrained') return undefined;
  if (cache && givenEncoder !== undefined && givenEncoder !== 'pretrained') {
    throw new ConfigError('encoder', `the training input ${cfg.inputs.join(', ')} is a feature cache (${cache.dim}-value ${cache.pooling}-pooled features of ${cache.encoderModel}); only --encoder pretrained trains on it (or leave --encoder out)`);
  }
  const modelDir = cfg.encoderModel ?? cache?.encoderModel;
  if (!modelDir) {
    throw new ConfigError('encoderModel', '--encoder pretrained needs --encoder-model DIR (a local Hugging Face model directory with config.json, tokenizer.json and onnx/model.onnx), or --train a feature cache written by `tripletflow prepare --encoder DIR --out DIR`');
  }
  checkOwnTokenizer(modelDir, cfg.tokenizer);
  const pooling = cache?.pooling ?? cfg.pooling;
  const maxLength = cache?.maxLength ?? cfg.maxLength;
  if (cache && cfg.pooling !== cache.pooling) log.warn({ cache: cache.pooling, asked: cfg.pooling }, `the feature cache was pooled with ${cache.pooling}; --pooling ${cfg.pooling} is ignored`);
  let dim = cache?.dim;
  if (!cache) {
    // checked up front (config.json only): a bad directory or a too-long --max-length fails before any data is read
    dim = checkPretrainedLength(modelDir, maxLength).hiddenSize;
  }
  let encoder: Promise<FeatureEncoder> | undefined;
  const open = (): Promise<FeatureEncoder> => (encoder ??= openFeatureEncoder({
    model: modelDir, device: cfg.encoderDevice, pooling, threads: cfg.encoderThreads,
  }).then((enc) => {
    log.info({ encoder: enc.info.dir, device: enc.device, pooling, dim: enc.dim, batchSize: cfg.encoderBatchSize, prefetch: cfg.encoderPrefetch }, `pretrained encoder: ${enc.info.modelType}, ${enc.dim} features, on ${enc.device}`);
    return enc;
  }));
  if (cache) log.info({ cache }, `training the head on cached features (${cache.dim} × ${cache.dtype}, ${cache.pooling} pooling of ${cache.encoderModel}); the encoder does not run on them`);
  return {
    cache,
    data: { tokenizer: resolve(modelDir), maxLength },
    model: { encoder: 'pretrained', embeddingDim: dim as number, encoderModel: resolve(modelDir), pooling, maxLength },
    async extrasFor(inputs) {
      if (await featureCacheOf(inputs, cfg.format)) return {};
      return { encoder: await open(), encode: { batchSize: cfg.encoderBatchSize, prefetch: cfg.encoderPrefetch } };
    },
    async close() {
      const e = encoder;
      encoder = undefined;
      // an encoder that failed to open has nothing to close; its error went to whoever awaited it
      if (e) await e.then((enc) => enc.close(), () => undefined);
    },
  };
}
