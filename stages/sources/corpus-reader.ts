import type { RunContext } from '../../pipeline/context.js';
import { FatalError } from '../../pipeline/errors.js';
import { Rng, type RngState } from '../../pipeline/rng.js';
import type { RawRecord } from '../../schemas/raw-record.js';
import { jsonlBlocks, type RawBlock } from './jsonl-blocks.js';
import type { Shard } from './list-shards.js';
import { parquetBlocks } from './parquet-blocks.js';

/** Options of the corpus reader (see `readShards` for the stage built on it). */
export interface CorpusReaderOptions {
  /** Shuffle the order of shards with the run seed. Default true. */
  readonly shuffleShards?: boolean;
  /** Shards open at once; each record comes from a seeded-random open shard. Default 4; 1 reads shards in sequence. */
  readonly interleave?: number;
  /** JSONL lines per block (a read unit). Default 1024. */
  readonly blockLines?: number;
  /** Count a file-level failure (missing, empty, corrupt) and go on instead of stopping. Default false. */
  readonly skipBadFiles?: boolean;
  /** Epoch number: each epoch gets its own shard order and interleaving. Default 0. */
  readonly epoch?: number;
  /** Stop after this many records (for trials). Default: no limit. */
  readonly limit?: number;
}

/** Where an open shard resumes: its next record's row, and for plain JSONL the byte offset of that row. */
export interface ShardCursor {
  /** Index of the shard in the listed shards. */
  readonly shard: number;
  readonly row: number;
  readonly offset: number | null;
}

/** The reader's position between two records: enough to continue exactly, reading nothing before it again. */
export interface ReaderCursor {
  readonly epoch: number;
  /** Shards of the epoch's order opened so far. */
  readonly opened: number;
  /** The open shards, in the order the interleaving draws from. */
  readonly open: readonly ShardCursor[];
  readonly rng: RngState;
  /** Records returned so far in this epoch. */
  readonly emitted: number;
}

interface OpenShard {
  readonly shard: number;
  readonly blocks: AsyncGenerator<RawBlock>;
  records: RawRecord[];
  next: number;
  /** Bytes each record of the current block accounts for (progress). */
  share: number;
  ended: boolean;
  row: number;
  offset: number | null;
}

/**
 * Reads a corpus of JSONL and parquet shards record by record: seeded shard order, seeded record-level interleaving
 * of `interleave` open shards (each read one block at a time), never a whole file in memory. Its position between
 * any two records is a small `ReaderCursor`; a reader built from a cursor seeks each open shard (byte offset for
 * plain JSONL, row group for parquet) and returns exactly the records an uninterrupted reader would have returned.
 * Counts `read.records`, `read.bytes`, `read.files`, `read.bad_files`.
 */
export class CorpusReader {
  private readonly order: number[];
  private readonly rng: Rng;
  private readonly open: OpenShard[] = [];
  private opened: number;
  private emitted: number;
  /** The open shard drawn for the next record while its block is being read; -1 between records. */
  private pendingShard = -1;
  private readonly interleave: number;
  private readonly limit: number;
  private readonly scope;

  constructor(
    private readonly ctx: RunContext,
    private readonly shards: readonly Shard[],
    private readonly opts: CorpusReaderOptions = {},
    from?: ReaderCursor,
  ) {
    this.interleave = opts.interleave ?? 4;
    if (!Number.isInteger(this.interleave) || this.interleave < 1) {
      throw new FatalError(`read: interleave must be an integer >= 1 (got ${this.interleave}); use 1 to read shards in sequence`);
    }
    this.limit = opts.limit ?? Infinity;
    this.scope = ctx.scope('read');
    const epoch = opts.epoch ?? 0;
    // each epoch gets its own generator, so epoch e's order does not depend on how far e-1 ran
    this.rng = Rng.derive(ctx.seed, `read:epoch-${epoch}`);
    const idx = shards.map((_, i) => i);
    this.order = opts.shuffleShards === false ? idx : this.rng.shuffle(idx);
    this.opened = 0;
    this.emitted = 0;
    if (from) {
      if (from.epoch !== epoch) throw new FatalError(`read: a cursor of epoch ${from.epoch} cannot resume epoch ${epoch}`);
      for (const c of from.open) {
        if (!shards[c.shard]) throw new FatalError(`read: the checkpoint names shard #${c.shard} but the corpus has ${shards.length} shards; resume with the same --train inputs`);
        this.open.push(this.openShard(c.shard, c.row, c.offset));
      }
      this.opened = from.opened;
      this.emitted = from.emitted;
      this.rng = new Rng(from.rng);
    }
  }

  /** The position after the last record returned. */
  cursor(): ReaderCursor {
    return {
      epoch: this.opts.epoch ?? 0,
      opened: this.opened,
      open: this.open.map((o) => ({ shard: o.shard, row: o.row, offset: o.offset })),
      rng: this.rng.state(),
      emitted: this.emitted,
    };
  }

  /** The next record, or undefined at the end of the epoch (or once the run's abort signal fired). */
  async next(): Promise<RawRecord | undefined> {
    for (;;) {
      const r = this.take();
      if (r !== null) return r;
      await this.fill();
    }
  }

  /** Up to `max` records; fewer when the next one needs a read (so a consumer gets what is ready); empty at the end. */
  async nextBlock(max = 256): Promise<RawRecord[]> {
    const out: RawRecord[] = [];
    while (out.length < max) {
      const r = this.take();
      if (r === undefined) break;
      if (r === null) {
        if (out.length > 0) break;
        await this.fill();
        continue;
      }
      out.push(r);
    }
    return out;
  }

  /** Without I/O: the next record, null when a block must be read first (`fill()`), undefined at the end. */
  private take(): RawRecord | null | undefined {
    for (;;) {
      if (this.pendingShard < 0) {
        if (this.emitted >= this.limit) return undefined;
        while (this.open.length < this.interleave && this.opened < this.order.length) {
          this.open.push(this.openShard(this.order[this.opened++] as number, 0, 0));
        }
        if (this.open.length === 0 || this.ctx.signal.aborted) return undefined;
        // record-level interleaving: each record comes from a seeded-random open shard, so even class-sorted
        // shards mix before the shuffle window (memory: interleave × one block)
        this.pendingShard = this.open.length === 1 ? 0 : this.rng.int(this.open.length);
      }
      const sh = this.open[this.pendingShard] as OpenShard;
      if (sh.next < sh.records.length) {
        this.pendingShard = -1;
        const rec = sh.records[sh.next++] as RawRecord;
        sh.row = rec.row + 1;
        sh.offset = rec.offset === undefined ? null : rec.offset + rec.bytes;
        this.emitted++;
        this.scope.count('records');
        this.scope.count('bytes', sh.share);
        return rec;
      }
      if (!sh.ended) return null;
      this.open.splice(this.pendingShard, 1);
      this.pendingShard = -1;
    }
  }

  /**
   * Reads the next block of the drawn shard. An exhausted block is refilled without a new draw, so where blocks end
   * never changes the order (a resumed reader's blocks start at its cursor, not where the original's did).
   */
  private async fill(): Promise<void> {
    const sh = this.open[this.pendingShard] as OpenShard;
    const r = await sh.blocks.next();
    if (r.done) {
      sh.ended = true;
      return;
    }
    sh.records = r.value.records;
    sh.next = 0;
    sh.share = r.value.records.length > 0 ? r.value.fileBytes / r.value.records.length : 0;
    if (r.value.records.length === 0) this.scope.count('bytes', r.value.fileBytes);
  }

  /** Closes the open files. */
  async close(): Promise<void> {
    await Promise.all(this.open.splice(0).map((o) => o.blocks.return(undefined)));
  }

  private openShard(index: number, row: number, offset: number | null): OpenShard {
    const shard = this.shards[index] as Shard;
    return { shard: index, blocks: this.blocksOf(shard, row, offset), records: [], next: 0, share: 0, ended: false, row, offset };
  }

  private async *blocksOf(shard: Shard, row: number, offset: number | null): AsyncGenerator<RawBlock> {
    const it = shard.format === 'parquet'
      ? parquetBlocks(shard.path, { fromRow: row })
      : jsonlBlocks(shard.path, { blockLines: this.opts.blockLines ?? 1024, fromRow: row, ...(offset !== null ? { fromOffset: offset } : {}) });
    try {
      yield* it;
      this.scope.count('files');
    } catch (e) {
      if (this.opts.skipBadFiles && e instanceof FatalError) {
        this.scope.count('bad_files');
        this.ctx.logger.warn({ file: shard.path, error: e.message }, 'skipping a bad file (--skip-bad-files)');
        return;
      }
      throw e;
    }
  }
}
