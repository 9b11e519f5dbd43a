import { DataOptionsSchema, type DataOptionsInput } from '../schemas/data-options.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { readShards } from '../stages/read-shards.js';
import { readTokenized } from '../stages/read-tokenized.js';
import { shuffleWindow } from '../stages/shuffle-window.js';
import { tokenize } from '../stages/tokenize.js';
import { validateDocs } from '../stages/validate-docs.js';
import { parseConfig } from './config.js';
import type { RunContext } from './context.js';
import { parquetInfo } from '../stages/adapters/parquet-reader.js';
import { defaultTokenizerDir } from './paths.js';
import { Graph } from './stage.js';

/** The data half of every command, built but not run: read → validate → shuffle-window → tokenize. */
export interface DataGraph {
  readonly graph: Graph<TokenizedDoc>;
  /** Total bytes of the input shards, for progress and ETA. */
  readonly totalBytes: number;
  /** Number of shards found. */
  readonly shards: number;
}

/**
 * Builds read → validate → shuffle-window → tokenize from data options. Parquet shards written by
 * `prepare --out` (an `input_ids` column) skip validation and tokenization: they are replayed as they are.
 */
export async function buildDataGraph(ctx: RunContext, input: DataOptionsInput): Promise<DataGraph> {
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
  const pretokenized = await isTokenizedCorpus(source.shards.map((s) => s.path), source.shards.every((s) => s.format === 'parquet'));
  if (pretokenized) {
    const graph = Graph.from(source)
      .through(readTokenized(ctx))
      .through(shuffleWindow<TokenizedDoc>(ctx, { windowSize: opts.shuffleWindow, epoch: opts.epoch }));
    return { graph, totalBytes, shards: source.shards.length };
  }
  const graph = Graph.from(source)
    .through(validateDocs(ctx, { textField: opts.textField, labelField: opts.labelField, idField: opts.idField }))
    .through(shuffleWindow(ctx, { windowSize: opts.shuffleWindow, epoch: opts.epoch }))
    .through(tokenize(ctx, { tokenizer: opts.tokenizer ?? defaultTokenizerDir, maxLength: opts.maxLength, workers: opts.workers }));
  return { graph, totalBytes, shards: source.shards.length };
}

async function isTokenizedCorpus(paths: string[], allParquet: boolean): Promise<boolean> {
  if (!allParquet || paths.length === 0) return false;
  const info = await parquetInfo(paths[0] as string);
  return info.columns.includes('input_ids');
}
