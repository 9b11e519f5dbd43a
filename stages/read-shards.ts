import type { RunContext } from '../pipeline/context.js';
import { FatalError } from '../pipeline/errors.js';
import { Rng } from '../pipeline/rng.js';
import { fromAsyncIterable, named, type Source, type Stream } from '../pipeline/stage.js';
import type { RawRecord } from '../schemas/raw-record.js';
import { jsonlBlocks, type RawBlock } from './sources/jsonl-blocks.js';
import { listShards, type Shard, type ShardFormat } from './sources/list-shards.js';
import { parquetBlocks } from './sources/parquet-blocks.js';

/** Options for reading a corpus of shards. */
export interface ReadShardsOptions {
  /** Files, directories or globs. */
  readonly inputs: readonly string[];
  /** `auto` (by extension, the default), `jsonl` or `parquet`. */
  readonly format?: 'auto' | ShardFormat;
  /** Shuffle the order of shards with the run seed. Default true. */
  readonly shuffleShards?: boolean;
  /** Shards open at once; each record comes from a seeded-random open shard. Default 4; 1 reads shards one after another. */
  readonly interleave?: number;
  /** JSONL lines per block (the unit of interleaving). Default 1024. */
  readonly blockLines?: number;
  /** Count a file-level failure (missing, empty, corrupt) and go on instead of stopping. Default false. */
  readonly skipBadFiles?: boolean;
  /** Epoch number: each epoch gets its own shard order and interleaving. Default 0. */
  readonly epoch?: number;
  /** Stop after this many records (for trials). Default: no limit. */
  readonly limit?: number;
}

/**
 * Source of raw records from JSONL and parquet shards: seeded shard order, seeded record-by-record interleaving
 * of `interleave` open shards (each read a block at a time), never a whole file in memory. Counts `read.records`,
 * `read.bytes`, `read.files`, `read.bad_files`. Use: `readShards(ctx, { inputs: ['data/*.parquet'] })`.
 */
export function readShards(ctx: RunContext, opts: ReadShardsOptions): Source<RawRecord> & { readonly shards: Shard[] } {
  const shards = listShards(opts.inputs, opts.format ?? 'auto');
  const interleave = opts.interleave ?? 4;
  if (!Number.isInteger(interleave) || interleave < 1) {
    throw new FatalError(`read: interleave must be an integer >= 1 (got ${interleave}); use 1 to read shards in sequence`);
  }
  const scope = ctx.scope('read');
  const source = () => {
    const epoch = opts.epoch ?? 0;
    // each epoch gets its own generator, so epoch e's order does not depend on how far e-1 ran
    const rng = Rng.derive(ctx.seed, `read:epoch-${epoch}`);
    const order = opts.shuffleShards === false ? [...shards] : rng.shuffle([...shards]);
    // records travel in small arrays through the async boundary (one promise per array, not per record)
    const blocks = fromAsyncIterable(() => records(order, rng));
    // a run that stops before the end destroys the source at ctx.close(), which closes its open files
    ctx.defer(() => blocks.destroy());
    return blocks.sequence() as Stream<RawRecord>;
  };

  async function* blocksOf(shard: Shard): AsyncGenerator<RawBlock> {
    const it = shard.format === 'parquet'
      ? parquetBlocks(shard.path)
      : jsonlBlocks(shard.path, { blockLines: opts.blockLines ?? 1024 });
    try {
      yield* it;
      scope.count('files');
    } catch (e) {
      if (opts.skipBadFiles && e instanceof FatalError) {
        scope.count('bad_files');
        ctx.logger.warn({ file: shard.path, error: e.message }, 'skipping a bad file (--skip-bad-files)');
        return;
      }
      throw e;
    }
  }

  interface OpenShard { readonly blocks: AsyncGenerator<RawBlock>; records: RawBlock['records']; next: number }

  async function* records(order: Shard[], rng: Rng): AsyncGenerator<RawRecord[]> {
    const pending = [...order];
    const open: OpenShard[] = [];
    const limit = opts.limit ?? Infinity;
    let emitted = 0;
    let out: RawRecord[] = [];
    try {
      while ((pending.length > 0 || open.length > 0) && emitted < limit) {
        while (open.length < interleave && pending.length > 0) {
          open.push({ blocks: blocksOf(pending.shift() as Shard), records: [], next: 0 });
        }
        if (ctx.signal.aborted) break;
        // record-level interleaving: each record comes from a seeded-random open shard, so even
        // class-sorted shards mix before the shuffle window (memory: interleave × one block)
        const k = open.length === 1 ? 0 : rng.int(open.length);
        const sh = open[k] as OpenShard;
        if (sh.next >= sh.records.length) {
          if (out.length > 0) {
            yield out;
            out = [];
          }
          const r = await sh.blocks.next();
          if (r.done) {
            open.splice(k, 1);
            continue;
          }
          scope.count('bytes', r.value.fileBytes);
          sh.records = r.value.records;
          sh.next = 0;
          if (sh.records.length === 0) continue;
        }
        out.push(sh.records[sh.next++] as RawRecord);
        emitted++;
        scope.count('records');
        if (out.length >= 256) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) yield out;
    } finally {
      await Promise.all(open.map((o) => o.blocks.return(undefined)));
    }
  }

  return Object.assign(named('read', source), { shards });
}
