import { DataOptionsSchema, type DataOptionsInput } from '../schemas/data-options.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { readShards } from '../stages/read-shards.js';
import { readTokenized } from '../stages/read-tokenized.js';
import { readFeatures } from '../stages/read-features.js';
import { encodeFeatures, type EncodeFeaturesOptions, type FeatureEncoder } from '../stages/encode-features.js';
import { listShards } from '../stages/sources/list-shards.js';
import { FEATURES_METADATA_KEY } from '../stages/adapters/parquet-writer.js';
import { FeatureCacheMetaSchema, type FeatureCacheMeta } from '../schemas/feature-cache.js';
import { FatalError } from './errors.js';
import { shuffleWindow } from '../stages/shuffle-window.js';
import { tokenize } from '../stages/tokenize.js';
import { tokenizeChunks } from '../stages/tokenize-chunks.js';
import { validateDocs } from '../stages/validate-docs.js';
import { parseConfig } from './config.js';
import type { RunContext } from './context.js';
import { parquetInfo } from '../stages/adapters/parquet-reader.js';
import { defaultTokenizerDir } from './paths.js';
import { Graph } from './stage.js';

/** The data half of every command, built but not run: read → validate → shuffle-window → tokenize. */
export interface DataGraph<T = TokenizedDoc> {
  readonly graph: Graph<T>;
  /** Total bytes of the input shards, for progress and ETA. */
  readonly totalBytes: number;
  /** Number of shards found. */
  readonly shards: number;
  /** What the feature cache holds, when the input is one (`prepare --encoder DIR --out DIR`). */
  readonly features?: FeatureCacheMeta;
}

/** What the data graph needs beyond its options: a pretrained encoder to run after tokenizing. */
export interface DataGraphExtras {
  /** An open encoder: docs leave the graph with `features` (a feature cache needs none; its dim must match). */
  readonly encoder?: FeatureEncoder;
  /** Batch size and prefetch of the encode-features stage. */
  readonly encode?: EncodeFeaturesOptions;
}

/**
 * Builds read → validate → shuffle-window → tokenize from data options. Parquet shards written by
 * `prepare --out` (an `input_ids` column) skip validation and tokenization: they are replayed as they are. With an
 * encoder in `extras`, encode-features follows. A feature cache (a `features` column, from `prepare --encoder`) is
 * read → read-features → shuffle-window: its docs carry their features and the encoder does not run.
 */
export async function buildDataGraph(ctx: RunContext, input: DataOptionsInput, extras: DataGraphExtras = {}): Promise<DataGraph> {
  return (await build(ctx, input, extras, false)) as DataGraph;
}

/**
 * `buildDataGraph` for a consumer that takes chunks of docs as well as single docs (`balance-batches`): texts end with
 * `tokenize-chunks`, so records travel in the tokenizer's chunks of up to 256, one stream step each. A prepared
 * corpus or a feature cache is replayed one record at a time, as by `buildDataGraph`. No encoder: encode-features
 * takes single docs.
 */
export async function buildChunkedDataGraph(ctx: RunContext, input: DataOptionsInput): Promise<DataGraph<TokenizedDoc | TokenizedDoc[]>> {
  // a graph of single docs is one of the shapes the union allows
  return (await build(ctx, input, {}, true)) as DataGraph<TokenizedDoc | TokenizedDoc[]>;
}

async function build(ctx: RunContext, input: DataOptionsInput, extras: DataGraphExtras, chunks: boolean): Promise<DataGraph | DataGraph<TokenizedDoc | TokenizedDoc[]>> {
  const opts = parseConfig(DataOptionsSchema, input, 'data');
  const source = readShards(ctx, {
    inputs: opts.inputs,
    format: opts.format,
    interleave: opts.interleave,
    shuffleShards: opts.shuffleShards,
    skipBadFiles: opts.skipBadFiles,
    epoch: opts.epoch,
    limit: opts.limit,
  });
  const totalBytes = source.shards.reduce((n, s) => n + s.bytes, 0);
  const paths = source.shards.map((s) => s.path);
  const allParquet = source.shards.every((s) => s.format === 'parquet');
  const features = await featureCacheMeta(paths, allParquet);
  if (features) {
    if (extras.encoder && extras.encoder.dim !== features.dim) {
      throw new FatalError(`${paths[0]}: the feature cache holds ${features.dim}-value vectors but the encoder ${extras.encoder.info.dir} makes ${extras.encoder.dim}; use the encoder the cache was made with (${features.encoderModel})`, { file: paths[0] as string });
    }
    const graph = Graph.from(source)
      .through(readFeatures(ctx, { dim: features.dim, dtype: features.dtype }))
      .through(shuffleWindow<TokenizedDoc>(ctx, { windowSize: opts.shuffleWindow, epoch: opts.epoch }));
    return { graph, totalBytes, shards: source.shards.length, features };
  }
  const encode = (g: Graph<TokenizedDoc>): Graph<TokenizedDoc> => (extras.encoder ? g.through(encodeFeatures(ctx, extras.encoder, extras.encode ?? {})) : g);
  const pretokenized = await isTokenizedCorpus(paths, allParquet);
  if (pretokenized) {
    const graph = Graph.from(source)
      .through(readTokenized(ctx))
      .through(shuffleWindow<TokenizedDoc>(ctx, { windowSize: opts.shuffleWindow, epoch: opts.epoch }));
    return { graph: encode(graph), totalBytes, shards: source.shards.length };
  }
  const docs = Graph.from(source)
    .through(validateDocs(ctx, { textField: opts.textField, labelField: opts.labelField, idField: opts.idField }))
    .through(shuffleWindow(ctx, { windowSize: opts.shuffleWindow, epoch: opts.epoch }));
  const tokenizeOpts = { tokenizer: opts.tokenizer ?? defaultTokenizerDir, maxLength: opts.maxLength, workers: opts.workers };
  if (chunks) {
    // Graph<T> is invariant in T (highland streams are): a graph of chunks is typed as the union its consumer takes
    const graph = docs.through(tokenizeChunks(ctx, tokenizeOpts)) as unknown as Graph<TokenizedDoc | TokenizedDoc[]>;
    return { graph, totalBytes, shards: source.shards.length };
  }
  return { graph: encode(docs.through(tokenize(ctx, tokenizeOpts))), totalBytes, shards: source.shards.length };
}


/**
 * The feature cache metadata of `inputs` when they are a feature cache (parquet shards with a `features` column),
 * else undefined. Every shard must carry the same metadata: a mixed cache is a FatalError naming the odd shard.
 */
export async function featureCacheOf(inputs: readonly string[], format: 'auto' | 'jsonl' | 'parquet' = 'auto'): Promise<FeatureCacheMeta | undefined> {
  const shards = listShards(inputs, format);
  return featureCacheMeta(shards.map((s) => s.path), shards.every((s) => s.format === 'parquet'));
}

async function featureCacheMeta(paths: string[], allParquet: boolean): Promise<FeatureCacheMeta | undefined> {
  if (!allParquet || paths.length === 0) return undefined;
  const first = await parquetInfo(paths[0] as string);
  if (!first.columns.includes('features')) return undefined;
  const read = (file: string, info: typeof first): FeatureCacheMeta => {
    const raw = info.keyValue[FEATURES_METADATA_KEY];
    const parsed = raw === undefined ? undefined : FeatureCacheMetaSchema.safeParse(safeJson(raw));
    if (!parsed?.success) {
      throw new FatalError(`${file}: a "features" column without valid ${FEATURES_METADATA_KEY} footer metadata (${raw === undefined ? 'none' : parsed?.error.issues[0]?.message}); feature caches are written by \`tripletflow prepare --encoder DIR --out DIR\``, { file });
    }
    return parsed.data;
  };
  const meta = read(paths[0] as string, first);
  for (const p of paths.slice(1)) {
    const m = read(p, await parquetInfo(p));
    if (m.dim !== meta.dim || m.dtype !== meta.dtype || m.pooling !== meta.pooling || m.encoderModel !== meta.encoderModel) {
      throw new FatalError(`${p}: its features (${m.dim} × ${m.dtype}, ${m.pooling} pooling of ${m.encoderModel}) differ from ${paths[0]}'s (${meta.dim} × ${meta.dtype}, ${meta.pooling} of ${meta.encoderModel}); train on one cache at a time`, { file: p });
    }
  }
  return meta;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function isTokenizedCorpus(paths: string[], allParquet: boolean): Promise<boolean> {
  if (!allParquet || paths.length === 0) return false;
  const info = await parquetInfo(paths[0] as string);
  return info.columns.includes('input_ids');
}
