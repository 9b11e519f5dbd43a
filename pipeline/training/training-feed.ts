import type { Batch } from '../../schemas/batch.js';
import { DataOptionsSchema, type DataOptions, type DataOptionsInput } from '../../schemas/data-options.js';
import type { Doc } from '../../schemas/doc.js';
import type { RawRecord } from '../../schemas/raw-record.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import { parquetInfo } from '../../stages/adapters/parquet-reader.js';
import { loadTokenizer, type TextTokenizer } from '../../stages/adapters/tokenizer.js';
import { balancerQuarantine } from '../../stages/balance/balancer-quarantine.js';
import { BatchBalancer, type BalancerState, type BatchBalancerOptions } from '../../stages/balance/batch-balancer.js';
import { tokenizedFromRecord } from '../../stages/read-tokenized.js';
import { featuresFromRecord } from '../../stages/read-features.js';
import type { FeatureCacheMeta } from '../../schemas/feature-cache.js';
import { featureCacheOf } from '../data-graph.js';
import { ShuffleBuffer, type ShuffleBufferState } from '../../stages/shuffle/shuffle-buffer.js';
import { CorpusReader, type ReaderCursor } from '../../stages/sources/corpus-reader.js';
import { listShards, type Shard } from '../../stages/sources/list-shards.js';
import { docFromRecord } from '../../stages/validate-docs.js';
import { parseConfig } from '../config.js';
import type { RunContext } from '../context.js';
import { FatalError, isRecordError, RecordError } from '../errors.js';
import { defaultTokenizerDir } from '../paths.js';
import { Rng } from '../rng.js';
import { StageClock } from '../stage-clock.js';

/** A tokenized record as a checkpoint stores it (ids as a plain array). */
export interface SavedDoc {
  readonly id: string;
  readonly label: string;
  readonly ids: number[];
  /** A feature-cache record's (or an encoded record's) pooled features. */
  readonly features?: number[];
}

/** A formed batch as a checkpoint stores it. */
export type SavedBatch = Omit<Batch, 'docs' | 'classIndex'> & { readonly classIndex: number[] };

/**
 * Everything the feed holds between two steps, as JSON: the reader's cursor, the shuffle window and the class pools
 * (their records' ids with their contents, so a resume re-reads nothing before the cursor), batches already formed.
 */
export interface FeedState {
  readonly version: 1;
  readonly epoch: number;
  readonly batchesThisEpoch: number;
  readonly reader: ReaderCursor;
  /** True once the epoch's input ended and the window is being drained. */
  readonly draining: boolean;
  readonly shuffle: ShuffleBufferState<Doc | SavedDoc>;
  readonly balancer: BalancerState;
  readonly balancerDocs: readonly SavedDoc[];
  /** Batches formed (at an epoch's end) but not trained yet, without their docs (those are in `pendingDocs`). */
  readonly pendingBatches: readonly SavedBatch[];
  readonly pendingDocs: readonly SavedDoc[];
}

/** Options of the training feed: the data options plus the balancer's. */
export interface TrainingFeedOptions {
  readonly data: DataOptionsInput;
  readonly balance: BatchBalancerOptions;
}

/**
 * The training data path, read → validate → shuffle-window → tokenize → balance-batches, driven one record at a time
 * by the trainer's pulls instead of through highland buffers, so that between two steps nothing is in flight: its
 * whole position is a `FeedState` (reader cursor, window, pools), and a feed restored from it gives exactly the
 * batches an uninterrupted one would. It uses the same parts as the stages (CorpusReader, docFromRecord,
 * ShuffleBuffer, the tokenizer, BatchBalancer) and quarantines and counts the same way. Crosses epochs on its own
 * (carrying the pools' leftovers); `next()` never ends.
 */
/** The feed's stages, in pipeline order, then the trainer's. */
export const FEED_STAGES = ['read', 'validate', 'shuffle-window', 'tokenize', 'balance-batches', 'train-step'] as const;
const [READ, VALIDATE, SHUFFLE, TOKENIZE, BALANCE] = [0, 1, 2, 3, 4];

export class TrainingFeed {
  private reader!: CorpusReader;
  private shuffle!: ShuffleBuffer<Doc | TokenizedDoc>;
  private draining = false;
  private batchesThisEpoch = 0;
  private readonly pending: Batch[] = [];
  /** Busy time and output of each stage of the feed (and, added by the trainer, of train-step). */
  readonly clock = new StageClock(FEED_STAGES);
  private readonly validate;
  private readonly tokenizeScope;
  private readonly readTokenizedScope;
  private readonly readFeaturesScope;

  private constructor(
    private readonly ctx: RunContext,
    private readonly opts: DataOptions,
    private readonly shards: Shard[],
    private readonly pretokenized: boolean,
    /** A feature cache's vector layout: its records carry features instead of text. */
    private readonly features: FeatureCacheMeta | undefined,
    private readonly tokenizer: TextTokenizer | undefined,
    readonly balancer: BatchBalancer,
    private epoch: number,
  ) {
    this.validate = ctx.scope('validate');
    this.tokenizeScope = ctx.scope('tokenize');
    this.readTokenizedScope = ctx.scope('read-tokenized');
    this.readFeaturesScope = ctx.scope('read-features');
  }

  /** A feed at the start of epoch 0, or at a checkpoint's `state`. */
  static async open(ctx: RunContext, options: TrainingFeedOptions, state?: FeedState): Promise<TrainingFeed> {
    const opts = parseConfig(DataOptionsSchema, options.data, 'data');
    const shards = listShards(opts.inputs, opts.format);
    const features = await featureCacheOf(opts.inputs, opts.format);
    const pretokenized = features !== undefined || (shards.length > 0 && shards.every((s) => s.format === 'parquet')
      && (await parquetInfo((shards[0] as Shard).path)).columns.includes('input_ids'));
    // a prepared corpus or a feature cache is not tokenized again: no tokenizer (nor its directory) is needed
    const tokenizer = pretokenized ? undefined : await loadTokenizer(opts.tokenizer ?? defaultTokenizerDir);
    const scope = ctx.scope('balance-batches');
    const events = balancerQuarantine(ctx, scope);
    if (!state) {
      const feed = new TrainingFeed(ctx, opts, shards, pretokenized, features, tokenizer, new BatchBalancer({ ...options.balance, atEpochEnd: 'carry' }, scope.rng(), events), 0);
      feed.startEpoch(0);
      return feed;
    }
    if (state.version !== 1) throw new FatalError(`checkpoint: unsupported feed state version ${String(state.version)}`);
    const docs = new Map<string, TokenizedDoc>();
    for (const d of [...state.balancerDocs, ...state.pendingDocs]) docs.set(d.id, fromSaved(d));
    const lookup = (id: string): TokenizedDoc => {
      const d = docs.get(id);
      if (!d) throw new FatalError(`checkpoint: the pools name record ${id} but the checkpoint does not hold it; the checkpoint is damaged`);
      return d;
    };
    const balancer = BatchBalancer.restore({ ...options.balance, atEpochEnd: 'carry' }, state.balancer, lookup, events);
    const feed = new TrainingFeed(ctx, opts, shards, pretokenized, features, tokenizer, balancer, state.epoch);
    feed.startEpoch(state.epoch, state);
    feed.batchesThisEpoch = state.batchesThisEpoch;
    feed.draining = state.draining;
    for (const b of state.pendingBatches) feed.pending.push({ ...b, docs: b.ids.map(lookup), classIndex: Int32Array.from(b.classIndex) });
    return feed;
  }

  /** The epoch the next record comes from. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Total bytes of the input shards (progress). */
  get totalBytes(): number {
    return this.shards.reduce((n, s) => n + s.bytes, 0);
  }

  /** The next batch; crosses into the next epoch when one ends. */
  async next(): Promise<Batch> {
    for (;;) {
      const queued = this.pending.shift();
      if (queued) return queued;
      const doc = await this.nextDoc();
      if (doc === undefined) {
        this.pending.push(...this.balancer.endEpoch());
        this.batchesThisEpoch += this.pending.length;
        if (this.batchesThisEpoch === 0) {
          const p = this.balancer.options.schedule[0];
          throw new FatalError(`epoch ${this.epoch} produced no batch: the corpus has too few classes or records for ${p?.classesPerBatch}×${p?.samplesPerClass} batches (see quarantine.jsonl)`);
        }
        await this.reader.close();
        this.startEpoch(this.epoch + 1);
        continue;
      }
      const t = performance.now();
      const b = this.balancer.push(doc);
      this.clock.add(BALANCE, performance.now() - t, b ? 1 : 0);
      if (b) {
        this.batchesThisEpoch++;
        return b;
      }
    }
  }

  /** Returns a batch taken by `next()` but not trained (read ahead): it comes out first again, and a snapshot holds it. */
  putBack(batch: Batch): void {
    this.pending.unshift(batch);
  }

  /** The feed's position, between two `next()` calls. */
  snapshot(): FeedState {
    const held = this.balancer.heldRecords();
    const pendingDocs = this.pending.flatMap((b) => b.docs);
    return {
      version: 1,
      epoch: this.epoch,
      batchesThisEpoch: this.batchesThisEpoch,
      reader: this.reader.cursor(),
      draining: this.draining,
      shuffle: (({ items, rng }) => ({ items: items.map(toSavedAny), rng }))(this.shuffle.snapshot()),
      balancer: this.balancer.snapshot(),
      balancerDocs: uniqueById(held).map(toSaved),
      pendingBatches: this.pending.map(({ docs: _docs, classIndex, ...rest }) => ({ ...rest, classIndex: Array.from(classIndex) })),
      pendingDocs: uniqueById(pendingDocs).map(toSaved),
    };
  }

  /** Closes the open shards. */
  close(): Promise<void> {
    return this.reader.close();
  }

  private startEpoch(epoch: number, state?: FeedState): void {
    this.epoch = epoch;
    this.draining = false;
    this.batchesThisEpoch = 0;
    this.reader = new CorpusReader(this.ctx, this.shards, {
      epoch, interleave: this.opts.interleave, shuffleShards: this.opts.shuffleShards, skipBadFiles: this.opts.skipBadFiles,
      ...(this.opts.limit !== undefined ? { limit: this.opts.limit } : {}),
    }, state?.reader);
    const saved = state ? { items: state.shuffle.items.map((d) => ('ids' in d ? fromSaved(d) : d)), rng: state.shuffle.rng } : undefined;
    this.shuffle = new ShuffleBuffer<Doc | TokenizedDoc>(this.opts.shuffleWindow, Rng.derive(this.ctx.seed, `shuffle-window:epoch-${epoch}`), saved);
  }

  /** The next tokenized record of the epoch in shuffled order, or undefined at its end. */
  private async nextDoc(): Promise<TokenizedDoc | undefined> {
    for (;;) {
      let out: Doc | TokenizedDoc | undefined;
      if (!this.draining) {
        let t = performance.now();
        const raw = await this.reader.next();
        let t2 = performance.now();
        this.clock.add(READ, t2 - t, raw ? 1 : 0);
        if (raw === undefined) {
          this.draining = true;
          continue;
        }
        const doc = this.parse(raw);
        t = performance.now();
        this.clock.add(VALIDATE, t - t2, doc ? 1 : 0);
        if (doc === undefined) continue;
        out = this.shuffle.push(doc);
        t2 = performance.now();
        this.clock.add(SHUFFLE, t2 - t, out ? 1 : 0);
        if (out === undefined) {
          this.ctx.counters.max('shuffle-window.peak_records', this.shuffle.size);
          continue;
        }
      } else {
        const t = performance.now();
        out = this.shuffle.drainOne();
        this.clock.add(SHUFFLE, performance.now() - t, out ? 1 : 0);
        if (out === undefined) return undefined;
      }
      const t = performance.now();
      const tokenized = 'ids' in out ? out : this.tokenize(out);
      this.clock.add(TOKENIZE, performance.now() - t, tokenized ? 1 : 0);
      if (tokenized) return tokenized;
    }
  }

  /** RawRecord → Doc (or TokenizedDoc for a prepared corpus); undefined when quarantined. */
  private parse(raw: RawRecord): Doc | TokenizedDoc | undefined {
    try {
      if (this.features) return featuresFromRecord(raw, this.features);
      return this.pretokenized ? tokenizedFromRecord(raw) : docFromRecord(raw, this.opts);
    } catch (e) {
      if (!isRecordError(e)) throw e;
      (this.features ? this.readFeaturesScope : this.pretokenized ? this.readTokenizedScope : this.validate).quarantine(e, raw.value);
      return undefined;
    }
  }

  private tokenize(doc: Doc): TokenizedDoc | undefined {
    const tok = this.tokenizer as TextTokenizer;
    const ids = tok.encode(doc.text, this.opts.maxLength);
    if (ids.length <= tok.numSpecialTokens) {
      this.tokenizeScope.quarantine(new RecordError('empty_after_tokenize', doc.id, `empty_after_tokenize (record ${doc.id}): no token left after normalization; the text holds only whitespace, control or format characters`), doc);
      return undefined;
    }
    return { id: doc.id, label: doc.label, ids };
  }
}

function toSaved(d: TokenizedDoc): SavedDoc {
  return { id: d.id, label: d.label, ids: Array.from(d.ids), ...(d.features ? { features: Array.from(d.features) } : {}) };
}

function toSavedAny(d: Doc | TokenizedDoc): Doc | SavedDoc {
  return 'ids' in d ? toSaved(d) : d;
}

function fromSaved(d: SavedDoc): TokenizedDoc {
  return { id: d.id, label: d.label, ids: Int32Array.from(d.ids), ...(d.features ? { features: Float32Array.from(d.features) } : {}) };
}

function uniqueById(docs: readonly TokenizedDoc[]): TokenizedDoc[] {
  const seen = new Map<string, TokenizedDoc>();
  for (const d of docs) if (!seen.has(d.id)) seen.set(d.id, d);
  return [...seen.values()];
}
