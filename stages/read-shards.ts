import type { RunContext } from '../pipeline/context.js';
import { fromAsyncIterable, named, type Source, type Stream } from '../pipeline/stage.js';
import type { RawRecord } from '../schemas/raw-record.js';
import { CorpusReader, type CorpusReaderOptions, type ReaderCursor } from './sources/corpus-reader.js';
import { listShards, type Shard, type ShardFormat } from './sources/list-shards.js';

/** Options for reading a corpus of shards (every `CorpusReaderOptions` field, with its default, plus the inputs). */
export interface ReadShardsOptions extends CorpusReaderOptions {
  /** Files, directories or globs. */
  readonly inputs: readonly string[];
  /** `auto` (by extension, the default), `jsonl` or `parquet`. */
  readonly format?: 'auto' | ShardFormat;
  /** Start at this position instead of the epoch's beginning (a checkpoint's `ReaderCursor`). */
  readonly from?: ReaderCursor;
}

/** The `read` source, with the shards it found and, once it runs, its reader (for its cursor). */
export type ReadShardsSource = Source<RawRecord> & { readonly shards: Shard[]; reader: CorpusReader | undefined };

/**
 * Source of raw records from JSONL and parquet shards through a `CorpusReader`: seeded shard order, seeded
 * record-by-record interleaving of `interleave` open shards, never a whole file in memory. Counts `read.records`,
 * `read.bytes`, `read.files`, `read.bad_files`. Use: `readShards(ctx, { inputs: ['data/*.parquet'] })`.
 */
export function readShards(ctx: RunContext, opts: ReadShardsOptions): ReadShardsSource {
  const shards = listShards(opts.inputs, opts.format ?? 'auto');
  // built once here so a bad option fails when the graph is built, not when it runs
  new CorpusReader(ctx, shards, opts);
  const source = () => {
    const reader = new CorpusReader(ctx, shards, opts, opts.from);
    out.reader = reader;
    // records travel in small arrays through the async boundary (one promise per array, not per record)
    const blocks = fromAsyncIterable(() => arrays(reader), () => void reader.close());
    // a run that stops before the end destroys the source at ctx.close(), which closes its open files
    ctx.defer(() => blocks.destroy());
    return blocks.sequence() as Stream<RawRecord>;
  };
  const out: ReadShardsSource = Object.assign(named('read', source), { shards, reader: undefined as CorpusReader | undefined });
  return out;
}

async function* arrays(reader: CorpusReader): AsyncGenerator<RawRecord[]> {
  try {
    for (let b = await reader.nextBlock(256); b.length > 0; b = await reader.nextBlock(256)) yield b;
  } finally {
    await reader.close();
  }
}
