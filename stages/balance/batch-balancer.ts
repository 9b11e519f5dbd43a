import { ConfigError, intAtLeast, type RejectReason } from '../../pipeline/errors.js';
import { Rng } from '../../pipeline/rng.js';
import type { Batch } from '../../schemas/batch.js';
import { constantSchedule, parseBatchSchedule, phaseAt, type BatchPhase, type BatchSchedule } from '../../schemas/batch-schedule.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';

/** How the classes of the next batch are picked among the ready ones (those with >= K records waiting). */
export type ClassChoice = 'uniform' | 'weighted';
/** What to do when a batch is due but fewer than P classes are ready. */
export type ShortagePolicy = 'fewer-classes' | 'skip' | 'reuse';
/** What happens to the records still waiting when an epoch's input ends. */
export type EpochEndPolicy = 'carry' | 'quarantine';
/** How `pool_overflow` records reach the quarantine: one entry each, or one entry per class for many records. */
export type OverflowEntries = 'per-record' | 'per-class';

/** Under `overflowEntries: 'per-class'`, a class's overflow is written once this many of its records have left. */
export const OVERFLOW_SUMMARY_EVERY = 1000;

/** Options of the class-balanced batcher (`balance-batches`). */
export interface BatchBalancerOptions {
  /** P: classes per batch. Required unless `schedule` is given (then it must match the first phase, or be left out). */
  readonly classesPerBatch?: number;
  /** K: records per class in a batch (`samplesPerClass`). Required unless `schedule` is given. */
  readonly samplesPerClass?: number;
  /** Batch-size schedule, `"0:125x4,2000:250x4"` or parsed phases; P and K change at those steps. Default: P×K throughout. */
  readonly schedule?: BatchSchedule | string;
  /** Total records held in all class pools together. Default 16 × the largest P·K of the schedule. Must be >= the largest P·K. */
  readonly poolCapacity?: number;
  /**
   * Most records one class may hold waiting. Default max(largest K, ⌈poolCapacity / largest P⌉), so a
   * dominant class cannot fill the pool and starve the others. Must be >= the largest K.
   */
  readonly maxPerClass?: number;
  /**
   * How long to wait for P ready classes, in records read since the last batch, before the shortage policy
   * applies. Default `poolCapacity`. (A full pool applies it at once.)
   */
  readonly maxWaitRecords?: number;
  /** `uniform` among ready classes (default), or `weighted` by how many records each has waiting. */
  readonly choose?: ClassChoice;
  /**
   * When a batch is due and fewer than P classes are ready: `fewer-classes` (default) emits a short batch of the
   * ready classes (at least `minClassesPerBatch`); `skip` emits nothing and waits (a full pool then evicts);
   * `reuse` first tops classes with 1..K-1 records up with records of that class used earlier in the epoch
   * (counted as `reused`), then behaves like `fewer-classes`.
   */
  readonly shortage?: ShortagePolicy;
  /** Fewest classes in a short batch. Default 2: a one-class batch has no negatives. */
  readonly minClassesPerBatch?: number;
  /** Records kept after use for the `reuse` policy, all classes together. Default ⌈poolCapacity / 4⌉. */
  readonly reuseCapacity?: number;
  /**
   * At the end of an epoch's input, after the last full batches: `quarantine` (default) emits what the shortage
   * policy allows and quarantines the rest as `incomplete_batch`; `carry` keeps the rest in the pools for the
   * next epoch (call `finish()` after the last epoch).
   */
  readonly atEpochEnd?: EpochEndPolicy;
  /**
   * How records that leave as `pool_overflow` are quarantined: `per-record` (default) writes one entry each;
   * `per-class` writes one entry per class for every `OVERFLOW_SUMMARY_EVERY` records and at the end of each
   * epoch, with the count and the first and last record ids. On a Zipf corpus ~40 % of the records overflow, so
   * per record the quarantine file grows to ~100 MB per million records; per class it stays small, and the counts
   * are the same. Records quarantined for other reasons are always written one by one.
   */
  readonly overflowEntries?: OverflowEntries;
}

/** The options with every default filled in and checked. */
export interface ResolvedBalancerOptions {
  readonly schedule: BatchSchedule;
  readonly poolCapacity: number;
  readonly maxPerClass: number;
  readonly maxWaitRecords: number;
  readonly choose: ClassChoice;
  readonly shortage: ShortagePolicy;
  readonly minClassesPerBatch: number;
  readonly reuseCapacity: number;
  readonly atEpochEnd: EpochEndPolicy;
  readonly overflowEntries: OverflowEntries;
}

/** Where the balancer sends records it cannot batch, and its warnings. */
export interface BalancerEvents {
  /** A record leaves the pools without a batch; the caller quarantines it (nothing vanishes). */
  reject(doc: TokenizedDoc, reason: RejectReason, message: string): void;
  /**
   * `count` records of class `label` left as `pool_overflow`, from `firstId` to `lastId` in the order they left
   * (`overflowEntries: 'per-class'` only); the caller quarantines them as one entry that counts `count` records.
   */
  overflowSummary?(label: string, count: number, firstId: string, lastId: string, message: string): void;
  /** Something the user should hear about once (a starving configuration). */
  warn?(message: string): void;
}

/** Overall figures of a balancer; `recordsIn = recordsBatched + quarantinedTotal + poolRecords + carriedDuplicates` always holds. */
export interface BalanceStats {
  /** Epochs whose input has ended. */
  readonly epochs: number;
  readonly batches: number;
  readonly fullBatches: number;
  readonly shortBatches: number;
  /** Records pushed in, bad ones included. */
  readonly recordsIn: number;
  /** Records placed in batches for the first time this epoch (reused placements not included). */
  readonly recordsBatched: number;
  /** Placements of records already used in the epoch (reuse policy). */
  readonly reused: number;
  /** Records left in the pools at the end of the last epoch (carry policy). */
  readonly carried: number;
  /** Next-epoch copies of carried records, dropped because their carried copy serves this epoch. */
  readonly carriedDuplicates: number;
  /** Records quarantined, by reason. */
  readonly quarantined: Readonly<Record<string, number>>;
  readonly quarantinedTotal: number;
  /** Records waiting in the pools now. */
  readonly poolRecords: number;
  /** Most records ever waiting at once (never above `poolCapacity`). */
  readonly maxPoolRecords: number;
  readonly classesSeen: number;
  readonly classesServed: number;
  readonly classesNeverServed: number;
  /** Up to 20 labels of classes seen but never in a batch, in first-seen order. */
  readonly neverServedSample: readonly string[];
  /** Longest wait of a batched record, in records read between its arrival and its batch. */
  readonly waitRecordsMax: number;
  /** The class of that record. */
  readonly slowestClass: string | null;
  /** How long the record waiting longest now has waited, in records read. */
  readonly oldestWaitingRecords: number;
}

/** The running totals of a balancer (the cheap part of `BalanceStats`). */
export type BalanceProgress = Pick<BalanceStats,
  'epochs' | 'batches' | 'fullBatches' | 'shortBatches' | 'recordsIn' | 'recordsBatched' | 'reused' | 'carried'
  | 'carriedDuplicates' | 'quarantinedTotal' | 'poolRecords' | 'maxPoolRecords' | 'waitRecordsMax'>;

/** The serialisable state of a balancer: pools as record ids, generator state, counters (for checkpoints). */
export interface BalancerState {
  readonly version: 1;
  readonly step: number;
  readonly epoch: number;
  readonly seq: number;
  readonly readSinceBatch: number;
  readonly reuseRetrySeq: number;
  readonly rng: [number, number, number, number];
  /** Every class seen, in first-seen order, with its waiting records (ids, arrival numbers) and recent used ids. */
  readonly classes: readonly {
    readonly label: string;
    readonly ids: readonly string[];
    readonly seqs: readonly number[];
    readonly recent: readonly string[];
    readonly served: number;
    /** `per-class` overflow not written yet. */
    readonly overflow?: OverflowPending;
  }[];
  /** Ready classes as indices into `classes`, in the order class choice sees them. */
  readonly ready: readonly number[];
  /** Classes holding reuse records, least recently used first. */
  readonly recentOrder: readonly number[];
  readonly carriedIds: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
}

/** Records of one class that left as `pool_overflow` and are not in a quarantine entry yet (`per-class`). */
interface OverflowPending {
  count: number;
  firstId: string;
  lastId: string;
}

const NAME = 'balance-batches';

/** Fills in and checks the defaults; a bad option is a ConfigError naming `balance-batches.<field>`. */
export function resolveBalancerOptions(opts: BatchBalancerOptions): ResolvedBalancerOptions {
  const p = (f: string) => `${NAME}.${f}`;
  const optionalIntAtLeast = (field: string, v: number | undefined, min: number, hint: string): void => {
    if (v !== undefined) intAtLeast(p(field), v, min, hint);
  };
  optionalIntAtLeast('classesPerBatch', opts.classesPerBatch, 1, 'P is the number of distinct classes in a batch');
  optionalIntAtLeast('samplesPerClass', opts.samplesPerClass, 1, 'K is the number of records of each class in a batch');
  let schedule: BatchSchedule;
  if (opts.schedule !== undefined) {
    schedule = typeof opts.schedule === 'string' ? parseBatchSchedule(opts.schedule, p('schedule')) : opts.schedule;
    const first = schedule[0];
    if (!first) throw new ConfigError(p('schedule'), 'needs at least one phase, e.g. "0:125x4"');
    if ((opts.classesPerBatch !== undefined && opts.classesPerBatch !== first.classesPerBatch)
      || (opts.samplesPerClass !== undefined && opts.samplesPerClass !== first.samplesPerClass)) {
      throw new ConfigError(
        p('schedule'),
        `classesPerBatch × samplesPerClass (${opts.classesPerBatch ?? '?'}x${opts.samplesPerClass ?? '?'}) disagrees with the schedule's first phase (${first.name}); give only the schedule`,
      );
    }
  } else {
    if (opts.classesPerBatch === undefined || opts.samplesPerClass === undefined) {
      throw new ConfigError(
        p(opts.classesPerBatch === undefined ? 'classesPerBatch' : 'samplesPerClass'),
        'is required unless a schedule is given (e.g. classesPerBatch: 2, samplesPerClass: 6)',
      );
    }
    schedule = constantSchedule(opts.classesPerBatch, opts.samplesPerClass, p('schedule'));
  }
  const maxBatch = Math.max(...schedule.map((ph) => ph.classesPerBatch * ph.samplesPerClass));
  const maxK = Math.max(...schedule.map((ph) => ph.samplesPerClass));
  const maxP = Math.max(...schedule.map((ph) => ph.classesPerBatch));
  optionalIntAtLeast('poolCapacity', opts.poolCapacity, maxBatch, `the pools must hold at least one full batch (largest P·K = ${maxBatch})`);
  const poolCapacity = opts.poolCapacity ?? 16 * maxBatch;
  optionalIntAtLeast('maxPerClass', opts.maxPerClass, maxK, `a class must be able to hold K = ${maxK} records`);
  const maxPerClass = opts.maxPerClass ?? Math.min(poolCapacity, Math.max(maxK, Math.ceil(poolCapacity / maxP)));
  optionalIntAtLeast('maxWaitRecords', opts.maxWaitRecords, 1, 'it counts records read since the last batch');
  optionalIntAtLeast('minClassesPerBatch', opts.minClassesPerBatch, 1, 'use 1 to allow one-class batches');
  optionalIntAtLeast('reuseCapacity', opts.reuseCapacity, 0, 'it bounds the records kept for the reuse policy');
  const oneOf = <T extends string>(field: string, v: T | undefined, allowed: readonly T[], dflt: T): T => {
    if (v === undefined) return dflt;
    if (!allowed.includes(v)) throw new ConfigError(p(field), `must be one of ${allowed.join(', ')} (got ${String(v)})`);
    return v;
  };
  return {
    schedule,
    poolCapacity,
    maxPerClass,
    maxWaitRecords: opts.maxWaitRecords ?? poolCapacity,
    choose: oneOf('choose', opts.choose, ['uniform', 'weighted'], 'uniform'),
    shortage: oneOf('shortage', opts.shortage, ['fewer-classes', 'skip', 'reuse'], 'fewer-classes'),
    minClassesPerBatch: opts.minClassesPerBatch ?? 2,
    reuseCapacity: opts.reuseCapacity ?? Math.ceil(poolCapacity / 4),
    atEpochEnd: oneOf('atEpochEnd', opts.atEpochEnd, ['carry', 'quarantine'], 'quarantine'),
    overflowEntries: oneOf('overflowEntries', opts.overflowEntries, ['per-record', 'per-class'], 'per-record'),
  };
}

/**
 * Stream-free core of `balance-batches`: per-class FIFO pools bounded in total (`poolCapacity`) and per class
 * (`maxPerClass`), from which it takes P classes × K records. Push records one at a time; a push returns the batch
 * it completed, if any. Every record pushed ends in exactly one place: a batch, the caller's reject callback
 * (quarantine) or, under `overflowEntries: 'per-class'`, a counted overflow summary, the pools (carried), or — for
 * a next-epoch copy of a carried record — the `carriedDuplicates` count.
 *
 * When a batch is taken: as soon as the pool is full (the most choice of classes), when a class at its
 * `maxPerClass` gets another record (that class goes in), when `maxWaitRecords` records were read since the last
 * batch, and at the end of an epoch. A full pool with fewer than P classes ready gets a short batch (shortage policy)
 * only when its longest-waiting record is in a ready class, i.e. the stream has too few classes; when that record is
 * a straggler (its class short of K), the pool is clogged by rare classes and a short batch would not help. When no
 * batch can be formed and room is needed, the record that waited longest leaves (or, for a class at its own bound,
 * that class's oldest) as `pool_overflow`. Blocking instead would hang the stream: nothing but a batch or an eviction
 * frees room, and dropping silently is not allowed.
 */
export class BatchBalancer {
  readonly options: ResolvedBalancerOptions;
  private phase: BatchPhase;
  private step = 0;
  private epoch = 0;
  /** Records read so far (arrival number of the next record). */
  private seq = 0;
  private readSinceBatch = 0;
  // a failed reuse scan (O(classes)) is not retried before this arrival number
  private reuseRetrySeq = 0;
  private total = 0;
  private classesWaiting = 0;

  // Classes, by index in first-seen order, as parallel arrays (grown by doubling): a push touches a few numbers in
  // compact typed arrays instead of chasing per-class objects and per-class ring buffers.
  private readonly byLabel = new Map<string, number>();
  private readonly labels: string[] = [];
  /** Oldest and newest waiting record of each class (slot numbers, -1 when none). */
  private clsHead = new Int32Array(64);
  private clsTail = new Int32Array(64);
  private clsSize = new Int32Array(64);
  /** Position in `ready`, -1 when fewer than K records wait. */
  private clsReadyPos = new Int32Array(64);
  /** Records of each class placed in batches. */
  private clsServed = new Float64Array(64);
  /** Last used records of each class, newest last (reuse policy only). */
  private readonly recent: TokenizedDoc[][] = [];
  /** The quarantine message for each class's overflow, built once. */
  private readonly overflowMessages: (string | undefined)[] = [];
  /** `per-class` overflow not written yet, by class. */
  private readonly overflowPending = new Map<number, OverflowPending>();
  /** Ready classes (>= K waiting), in the order class choice sees them. */
  private ready: number[] = [];

  // Waiting records live in slots (grown by doubling, never beyond the most records held at once): each slot is on
  // its class's FIFO list and on the list of all waiting records in arrival order (doubly linked, so that removing
  // a class's oldest record is O(1) and the record that waited longest is always the head).
  private slotDoc: (TokenizedDoc | undefined)[] = [];
  private slotSeq = new Float64Array(0);
  private slotCls = new Int32Array(0);
  /** Next slot of the same class (or, for a free slot, the next free slot). */
  private slotNextInCls = new Int32Array(0);
  private slotPrev = new Int32Array(0);
  private slotNext = new Int32Array(0);
  private freeSlot = -1;
  private oldest = -1;
  private newest = -1;

  private recentTotal = 0;
  // classes by last use, oldest first: the reuse store drops the least recently used class first
  private readonly recentOrder = new Set<number>();
  private carriedIds = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly counts = {
    batches: 0, fullBatches: 0, shortBatches: 0, recordsIn: 0, recordsBatched: 0, reused: 0, carried: 0,
    carriedDuplicates: 0, quarantinedTotal: 0, maxPoolRecords: 0, waitRecordsMax: 0, epochs: 0,
  };
  private readonly quarantined = new Map<string, number>();
  private slowestClass: string | null = null;
  // the pool-full overflow message changes only with the ready count and P: rebuilt when either changes
  private poolFullMessage = '';
  private poolFullReady = -1;
  private poolFullP = -1;

  constructor(opts: BatchBalancerOptions, private readonly rng: Rng, private readonly events: BalancerEvents) {
    this.options = resolveBalancerOptions(opts);
    this.phase = phaseAt(this.options.schedule, 0);
    if (this.options.overflowEntries === 'per-class' && !events.overflowSummary) {
      throw new ConfigError(`${NAME}.overflowEntries`, "'per-class' needs a caller that writes overflow summaries (events.overflowSummary)");
    }
  }

  /** The phase the next batch will use. */
  get currentPhase(): BatchPhase {
    return this.phase;
  }

  /** The step number the next batch will get. */
  get nextStep(): number {
    return this.step;
  }

  /** The epoch the next record belongs to. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Records waiting in the pools now. */
  get poolRecords(): number {
    return this.total;
  }

  /**
   * Adds one record; returns the batch this arrival completed, if any. A record with an empty label is rejected
   * (`missing_label`); a record whose class is at `maxPerClass`, or that finds the pool full, may push the longest
   * waiting record out (`pool_overflow`) when no batch can take it.
   */
  push(doc: TokenizedDoc): Batch | undefined {
    this.counts.recordsIn++;
    if (this.carriedIds.size > 0 && this.carriedIds.delete(doc.id)) {
      this.counts.carriedDuplicates++;
      return undefined;
    }
    const label = doc.label;
    if (typeof label !== 'string' || label.length === 0) {
      this.reject(doc, 'missing_label', `${NAME}: record ${doc.id} has an empty label; expected a non-empty class label (validate-docs rejects these upstream)`);
      return undefined;
    }
    this.seq++;
    this.readSinceBatch++;
    let c = this.byLabel.get(label);
    if (c === undefined) c = this.newClass(label);
    const { poolCapacity, maxPerClass } = this.options;
    let batch: Batch | undefined;
    if ((this.clsSize[c] as number) >= maxPerClass) {
      batch = this.takeFull(c);
      if (!batch && this.classesWaiting < this.phase.classesPerBatch) batch = this.takeShort(c);
      if (!batch) {
        if (!this.warned.has('class')) this.warnClass(c);
        const message = this.overflowMessages[c] ?? this.classOverflowMessage(c);
        this.overflow(c, message);
      }
    } else if (this.total >= poolCapacity) {
      // the message tells the ready count before the eviction
      const message = this.poolFullOverflowMessage();
      this.overflow(this.slotCls[this.oldest] as number, message);
    }
    this.add(c, doc);
    if (!batch && this.total >= poolCapacity) {
      batch = this.takeFull();
      if (!batch) {
        // a short batch only when the record that waited longest is in a ready class (too few classes); when it is
        // a straggler, the pool is clogged by classes short of K: the next arrival evicts it, and a short batch would
        // only shrink batches without unclogging anything (reuse may still complete a full batch)
        const stalestReady = this.oldest >= 0 && (this.clsReadyPos[this.slotCls[this.oldest] as number] as number) >= 0;
        batch = this.takeShort(-1, false, !stalestReady);
      }
      if (!batch) {
        this.warnOnce('full', () => `${NAME}: pool full (${this.total} records, ${this.classesWaiting} classes waiting) with ${this.ready.length} classes ready of ${this.phase.classesPerBatch} needed (shortage policy '${this.options.shortage}'); the longest-waiting records are quarantined as pool_overflow. Raise poolCapacity, or lower classesPerBatch/samplesPerClass.${this.overflowHint()}`);
      }
    } else if (!batch && this.readSinceBatch >= this.options.maxWaitRecords) {
      batch = this.takeFull() ?? this.takeShort();
    }
    return batch;
  }

  /**
   * Ends the current epoch's input: returns the last batches (every full batch the pools still hold; with
   * `atEpochEnd: 'quarantine'` also the short batches the shortage policy allows), then carries or quarantines the
   * rest. The next `push` starts the next epoch.
   */
  endEpoch(): Batch[] {
    const out: Batch[] = [];
    for (let b = this.takeFull(); b; b = this.takeFull()) out.push(b);
    this.writeOverflow();
    if (this.options.atEpochEnd === 'quarantine') {
      for (let b = this.takeShort(-1, true); b; b = this.takeShort(-1, true)) out.push(b);
      this.quarantineWaiting();
      this.carriedIds = new Set();
    } else {
      const ids = new Set<string>();
      // class by class: the snapshot lists carried ids in this order
      for (let c = 0; c < this.labels.length; c++) {
        for (let s = this.clsHead[c] as number; s >= 0; s = this.slotNextInCls[s] as number) ids.add((this.slotDoc[s] as TokenizedDoc).id);
      }
      this.carriedIds = ids;
    }
    this.counts.carried = this.total;
    this.counts.epochs++;
    this.epoch++;
    this.readSinceBatch = 0;
    return out;
  }

  /** After the last epoch under `carry`: quarantines every record still waiting as `incomplete_batch`; returns how many. */
  finish(): number {
    this.writeOverflow();
    const n = this.quarantineWaiting();
    this.counts.carried = 0;
    this.carriedIds = new Set();
    return n;
  }

  /**
   * Hands every class's pending `per-class` overflow to the caller now, for a run that stops mid-epoch. Call it
   * after the stop's checkpoint: the checkpoint keeps them pending, and a resume cut back to it writes them once.
   */
  flushOverflow(): void {
    this.writeOverflow();
  }

  /** The records waiting in the pools now (after `endEpoch` under `carry`: the carried ones), in arrival order. */
  waitingRecords(): TokenizedDoc[] {
    const out: TokenizedDoc[] = [];
    for (let s = this.oldest; s >= 0; s = this.slotNext[s] as number) out.push(this.slotDoc[s] as TokenizedDoc);
    return out;
  }

  /** The running totals, without the per-class scan of `stats()` (cheap enough to call per batch). */
  progress(): BalanceProgress {
    return { ...this.counts, poolRecords: this.total };
  }

  /** Records quarantined so far, by reason (live view; do not modify). */
  quarantinedByReason(): ReadonlyMap<string, number> {
    return this.quarantined;
  }

  /** Overall figures so far (scans the classes once). */
  stats(): BalanceStats {
    let served = 0;
    const neverServed: string[] = [];
    for (let c = 0; c < this.labels.length; c++) {
      if ((this.clsServed[c] as number) > 0) served++;
      else if (neverServed.length < 20) neverServed.push(this.labels[c] as string);
    }
    return {
      ...this.counts,
      quarantined: Object.fromEntries([...this.quarantined.entries()].sort(([a], [b]) => a.localeCompare(b))),
      poolRecords: this.total,
      classesSeen: this.labels.length,
      classesServed: served,
      classesNeverServed: this.labels.length - served,
      neverServedSample: neverServed,
      slowestClass: this.slowestClass,
      oldestWaitingRecords: this.oldest >= 0 ? this.seq - (this.slotSeq[this.oldest] as number) : 0,
    };
  }

  /** Every record `snapshot()` names (waiting, and kept for reuse), for a checkpoint to save next to it. */
  heldRecords(): TokenizedDoc[] {
    const out = this.waitingRecords();
    for (const r of this.recent) out.push(...r);
    return out;
  }

  /** The state as plain JSON (pool contents as record ids, generator state), for checkpoints. */
  snapshot(): BalancerState {
    return {
      version: 1,
      step: this.step,
      epoch: this.epoch,
      seq: this.seq,
      readSinceBatch: this.readSinceBatch,
      reuseRetrySeq: this.reuseRetrySeq,
      rng: this.rng.state(),
      classes: this.labels.map((label, c) => {
        const ids: string[] = [];
        const seqs: number[] = [];
        for (let s = this.clsHead[c] as number; s >= 0; s = this.slotNextInCls[s] as number) {
          ids.push((this.slotDoc[s] as TokenizedDoc).id);
          seqs.push(this.slotSeq[s] as number);
        }
        const overflow = this.overflowPending.get(c);
        return {
          label, ids, seqs, recent: (this.recent[c] as TokenizedDoc[]).map((d) => d.id), served: this.clsServed[c] as number,
          ...(overflow ? { overflow: { ...overflow } } : {}),
        };
      }),
      ready: [...this.ready],
      recentOrder: [...this.recentOrder],
      carriedIds: [...this.carriedIds],
      counts: { ...this.counts, ...Object.fromEntries([...this.quarantined].map(([k, v]) => [`quarantined.${k}`, v])) },
    };
  }

  /**
   * Rebuilds a balancer from `snapshot()`: `lookup` returns the record for an id (the driver re-reads them).
   * Continues with the same batches the original would have produced.
   */
  static restore(opts: BatchBalancerOptions, state: BalancerState, lookup: (id: string) => TokenizedDoc, events: BalancerEvents): BatchBalancer {
    if (state.version !== 1) throw new ConfigError(`${NAME}.state.version`, `unsupported balancer state version ${String(state.version)} (expected 1)`);
    const b = new BatchBalancer(opts, new Rng(state.rng), events);
    b.step = state.step;
    b.epoch = state.epoch;
    b.seq = state.seq;
    b.readSinceBatch = state.readSinceBatch;
    b.reuseRetrySeq = state.reuseRetrySeq;
    b.phase = phaseAt(b.options.schedule, b.step);
    const arrivals: [number, number, TokenizedDoc][] = [];
    for (const s of state.classes) {
      const c = b.newClass(s.label);
      b.clsServed[c] = s.served;
      b.recent[c] = s.recent.map(lookup);
      b.recentTotal += s.recent.length;
      if (s.overflow) b.overflowPending.set(c, { ...s.overflow });
      s.ids.forEach((id, i) => arrivals.push([s.seqs[i] as number, c, lookup(id)]));
    }
    // added in arrival order, which is also each class's own order: both lists come back as they were
    arrivals.sort((x, y) => x[0] - y[0]);
    for (const [q, c, doc] of arrivals) b.add(c, doc, q, false);
    for (const i of state.recentOrder) b.recentOrder.add(i);
    for (const c of state.ready) b.markReady(c);
    b.carriedIds = new Set(state.carriedIds);
    for (const [k, v] of Object.entries(state.counts)) {
      if (k.startsWith('quarantined.')) b.quarantined.set(k.slice('quarantined.'.length), v);
      else if (k in b.counts) (b.counts as Record<string, number>)[k] = v;
    }
    return b;
  }

  // --- internals ---

  private newClass(label: string): number {
    const c = this.labels.length;
    if (c === this.clsHead.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const g = make(a.length * 2);
        g.set(a);
        return g;
      };
      this.clsHead = grow(this.clsHead, (n) => new Int32Array(n));
      this.clsTail = grow(this.clsTail, (n) => new Int32Array(n));
      this.clsSize = grow(this.clsSize, (n) => new Int32Array(n));
      this.clsReadyPos = grow(this.clsReadyPos, (n) => new Int32Array(n));
      this.clsServed = grow(this.clsServed, (n) => new Float64Array(n));
    }
    this.labels.push(label);
    this.clsHead[c] = -1;
    this.clsTail[c] = -1;
    this.clsSize[c] = 0;
    this.clsReadyPos[c] = -1;
    this.clsServed[c] = 0;
    this.recent.push([]);
    this.overflowMessages.push(undefined);
    this.byLabel.set(label, c);
    return c;
  }

  /** Appends a record to class `c` and to the arrival list (arrival number `seq`; `track` updates readiness and the high-water mark). */
  private add(c: number, doc: TokenizedDoc, seq = this.seq, track = true): void {
    if (this.freeSlot < 0) this.growSlots();
    const s = this.freeSlot;
    this.freeSlot = this.slotNextInCls[s] as number;
    this.slotDoc[s] = doc;
    this.slotSeq[s] = seq;
    this.slotCls[s] = c;
    this.slotNextInCls[s] = -1;
    const tail = this.clsTail[c] as number;
    if (tail >= 0) this.slotNextInCls[tail] = s;
    else this.clsHead[c] = s;
    this.clsTail[c] = s;
    this.slotPrev[s] = this.newest;
    this.slotNext[s] = -1;
    if (this.newest >= 0) this.slotNext[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
    const size = (this.clsSize[c] as number) + 1;
    this.clsSize[c] = size;
    if (size === 1) this.classesWaiting++;
    this.total++;
    if (!track) return;
    if (this.total > this.counts.maxPoolRecords) this.counts.maxPoolRecords = this.total;
    if ((this.clsReadyPos[c] as number) < 0 && size >= this.phase.samplesPerClass) this.markReady(c);
  }

  /** Removes and returns the oldest waiting record of class `c` (which must have one). */
  private shift(c: number): TokenizedDoc {
    const s = this.clsHead[c] as number;
    const doc = this.slotDoc[s] as TokenizedDoc;
    // cleared so a record that left is not kept alive by its slot
    this.slotDoc[s] = undefined;
    const nextInCls = this.slotNextInCls[s] as number;
    this.clsHead[c] = nextInCls;
    if (nextInCls < 0) this.clsTail[c] = -1;
    const prev = this.slotPrev[s] as number;
    const next = this.slotNext[s] as number;
    if (prev >= 0) this.slotNext[prev] = next;
    else this.oldest = next;
    if (next >= 0) this.slotPrev[next] = prev;
    else this.newest = prev;
    this.slotNextInCls[s] = this.freeSlot;
    this.freeSlot = s;
    const size = (this.clsSize[c] as number) - 1;
    this.clsSize[c] = size;
    this.total--;
    if (size === 0) this.classesWaiting--;
    if ((this.clsReadyPos[c] as number) >= 0 && size < this.phase.samplesPerClass) this.unmarkReady(c);
    return doc;
  }

  private growSlots(): void {
    const old = this.slotSeq.length;
    const cap = Math.max(1024, old * 2);
    const grow = <T extends Int32Array | Float64Array>(a: T, g: T): T => {
      g.set(a);
      return g;
    };
    this.slotSeq = grow(this.slotSeq, new Float64Array(cap));
    this.slotCls = grow(this.slotCls, new Int32Array(cap));
    this.slotNextInCls = grow(this.slotNextInCls, new Int32Array(cap));
    this.slotPrev = grow(this.slotPrev, new Int32Array(cap));
    this.slotNext = grow(this.slotNext, new Int32Array(cap));
    this.slotDoc.length = cap;
    // the new slots become the free list, lowest first
    for (let s = cap - 1; s >= old; s--) {
      this.slotNextInCls[s] = this.freeSlot;
      this.freeSlot = s;
    }
  }

  private reject(doc: TokenizedDoc, reason: RejectReason, message: string): void {
    this.countQuarantined(reason);
    this.events.reject(doc, reason, message);
  }

  private countQuarantined(reason: RejectReason): void {
    this.counts.quarantinedTotal++;
    this.quarantined.set(reason, (this.quarantined.get(reason) ?? 0) + 1);
  }

  /** Class `c`'s oldest record leaves as `pool_overflow`: quarantined now, or (`per-class`) added to its pending summary. */
  private overflow(c: number, message: string): void {
    const doc = this.shift(c);
    if (this.options.overflowEntries === 'per-record') {
      this.reject(doc, 'pool_overflow', message);
      return;
    }
    this.countQuarantined('pool_overflow');
    const p = this.overflowPending.get(c);
    if (!p) {
      this.overflowPending.set(c, { count: 1, firstId: doc.id, lastId: doc.id });
      return;
    }
    p.count++;
    p.lastId = doc.id;
    if (p.count >= OVERFLOW_SUMMARY_EVERY) this.writeOverflow(c);
  }

  /** Hands the pending `per-class` overflow of class `c` (of every class, in class order, when -1) to the caller. */
  private writeOverflow(only = -1): void {
    if (this.overflowPending.size === 0) return;
    const classes = only >= 0 ? [only] : [...this.overflowPending.keys()].sort((a, b) => a - b);
    for (const c of classes) {
      const p = this.overflowPending.get(c);
      if (!p) continue;
      this.overflowPending.delete(c);
      const label = this.labels[c] as string;
      this.events.overflowSummary?.(label, p.count, p.firstId, p.lastId, `${NAME}: ${p.count} records of class "${label}" left the pools without a batch (the class held maxPerClass = ${this.options.maxPerClass} records, or the pool was full), from ${p.firstId} to ${p.lastId}; overflowEntries 'per-record' lists each one`);
    }
  }

  private classOverflowMessage(c: number): string {
    // the record id is in the quarantine entry; one message per class keeps overflow cheap
    const m = `${NAME}: class "${this.labels[c] as string}" held maxPerClass = ${this.options.maxPerClass} records and no batch could take one; evicted its oldest`;
    this.overflowMessages[c] = m;
    return m;
  }

  private poolFullOverflowMessage(): string {
    const P = this.phase.classesPerBatch;
    if (this.ready.length !== this.poolFullReady || P !== this.poolFullP) {
      this.poolFullReady = this.ready.length;
      this.poolFullP = P;
      this.poolFullMessage = `${NAME}: pool full (${this.options.poolCapacity} records) and no batch could be formed (${this.ready.length} classes ready, ${P} needed); evicted the record that waited longest`;
    }
    return this.poolFullMessage;
  }

  private warnClass(c: number): void {
    this.warnOnce('class', () => `${NAME}: class "${this.labels[c] as string}" already has ${this.options.maxPerClass} records waiting (maxPerClass) and no batch could take it; its oldest records are quarantined as pool_overflow. The class arrives faster than batches use it (K = ${this.phase.samplesPerClass} per batch): raise samplesPerClass or maxPerClass, or downsample it upstream.${this.overflowHint()}`);
  }

  private overflowHint(): string {
    return this.options.overflowEntries === 'per-record'
      ? " Each such record is one quarantine entry; overflowEntries 'per-class' (--overflow-entries per-class) writes one per class instead."
      : '';
  }

  private quarantineWaiting(): number {
    const docs = this.waitingRecords();
    for (let c = 0; c < this.labels.length; c++) while ((this.clsSize[c] as number) > 0) this.shift(c);
    const { classesPerBatch: P, samplesPerClass: K } = this.phase;
    for (const d of docs) {
      this.reject(d, 'incomplete_batch', `${NAME}: end of input with too few records left for a ${P}x${K} batch (record ${d.id}); use atEpochEnd 'carry' to keep them for the next epoch`);
    }
    return docs.length;
  }

  private markReady(c: number): void {
    this.clsReadyPos[c] = this.ready.length;
    this.ready.push(c);
  }

  private unmarkReady(c: number): void {
    const last = this.ready.pop() as number;
    if (last !== c) {
      const pos = this.clsReadyPos[c] as number;
      this.ready[pos] = last;
      this.clsReadyPos[last] = pos;
    }
    this.clsReadyPos[c] = -1;
  }

  private rebuildReady(): void {
    for (const c of this.ready) this.clsReadyPos[c] = -1;
    this.ready = [];
    // class-index order, so a rebuilt set (phase change, restore) does not depend on history
    const K = this.phase.samplesPerClass;
    for (let c = 0; c < this.labels.length; c++) if ((this.clsSize[c] as number) >= K) this.markReady(c);
  }

  /** A full batch of P ready classes (with `forced` among them, -1 for none), or undefined when fewer than P are ready. */
  private takeFull(forced = -1): Batch | undefined {
    const P = this.phase.classesPerBatch;
    if (this.ready.length < P) return undefined;
    return this.emit(this.choose(P, forced), []);
  }

  /** A short batch (or one completed by reuse) under the shortage policy, or undefined. */
  private takeShort(forced = -1, atEnd = false, requireFull = false): Batch | undefined {
    const { shortage, minClassesPerBatch } = this.options;
    const { classesPerBatch: P, samplesPerClass: K } = this.phase;
    if (shortage === 'skip' || this.ready.length >= P) return undefined;
    const topUps: number[] = [];
    if (shortage === 'reuse' && (atEnd || this.seq >= this.reuseRetrySeq)) {
      const candidates: number[] = [];
      for (let c = 0; c < this.labels.length; c++) {
        const w = this.clsSize[c] as number;
        if (w > 0 && w < K && (this.recent[c] as TokenizedDoc[]).length >= K - w) candidates.push(c);
      }
      // longest-waiting classes first: reuse exists to serve the rare ones
      candidates.sort((a, b) => this.headSeq(a) - this.headSeq(b));
      topUps.push(...candidates.slice(0, P - this.ready.length));
      if (topUps.length === 0 || (requireFull && this.ready.length + topUps.length < P)) this.reuseRetrySeq = this.seq + P * K;
    }
    if (requireFull && this.ready.length + topUps.length < P) return undefined;
    if (this.ready.length + topUps.length < Math.min(minClassesPerBatch, P)) {
      // at the end of an epoch a few stragglers are normal; mid-stream this means the configuration starves
      if (!atEnd && this.ready.length > 0) {
        this.warnOnce('few', () => `${NAME}: only ${this.ready.length} class(es) ready with ${K}+ records and ${this.classesWaiting} waiting at all; a batch needs ${P} (at least ${minClassesPerBatch} for a short one). Is the corpus single-class, or K larger than its classes?`);
      }
      return undefined;
    }
    if (forced >= 0 && (this.clsReadyPos[forced] as number) < 0) return undefined;
    return this.emit(this.choose(this.ready.length, forced), topUps);
  }

  /** Arrival number of class `c`'s oldest waiting record (it must have one). */
  private headSeq(c: number): number {
    return this.slotSeq[this.clsHead[c] as number] as number;
  }

  /** Picks `n` ready classes (all of them when n equals the ready count), `forced` first when given. */
  private choose(n: number, forced: number): number[] {
    const r = this.ready;
    let start = 0;
    if (forced >= 0 && (this.clsReadyPos[forced] as number) >= 0) {
      this.swapReady(0, this.clsReadyPos[forced] as number);
      start = 1;
    }
    if (this.options.choose === 'uniform' || n >= r.length) {
      // partial Fisher–Yates over the ready array: deterministic for a given generator state and history
      for (let i = start; i < n; i++) this.swapReady(i, i + this.rng.int(r.length - i));
      return r.slice(0, n);
    }
    // weighted sampling without replacement (Efraimidis & Spirakis, 2006): keep the n largest u^(1/w)
    const m = r.length - start;
    const keys = new Float64Array(m);
    const order = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      keys[i] = Math.log(1 - this.rng.next()) / (this.clsSize[r[start + i] as number] as number);
      order[i] = i;
    }
    order.sort((a, b) => (keys[b] as number) - (keys[a] as number) || a - b);
    const out = start === 1 ? [r[0] as number] : [];
    for (let i = 0; out.length < n; i++) out.push(r[start + (order[i] as number)] as number);
    return out;
  }

  private swapReady(i: number, j: number): void {
    if (i === j) return;
    const a = this.ready[i] as number;
    const b = this.ready[j] as number;
    this.ready[i] = b;
    this.ready[j] = a;
    this.clsReadyPos[b] = i;
    this.clsReadyPos[a] = j;
  }

  private emit(chosen: readonly number[], topUps: readonly number[]): Batch {
    const K = this.phase.samplesPerClass;
    const groups = topUps.length > 0 ? [...chosen, ...topUps] : chosen;
    const n = groups.length * K;
    const docs: TokenizedDoc[] = new Array<TokenizedDoc>(n);
    const labels: string[] = new Array<string>(n);
    const ids: string[] = new Array<string>(n);
    const classIndex = new Int32Array(n);
    let reused = 0;
    let waitMax = 0;
    let pos = 0;
    const reuse = this.options.shortage === 'reuse';
    const usedByGroup: TokenizedDoc[][] = [];
    for (let g = 0; g < groups.length; g++) {
      const c = groups[g] as number;
      const label = this.labels[c] as string;
      const fresh = Math.min(K, this.clsSize[c] as number);
      const fromRecent = K - fresh;
      const recent = this.recent[c] as TokenizedDoc[];
      // reused records first, newest used first, so a top-up is the class's most recent records
      for (let i = 0; i < fromRecent; i++) {
        const d = recent[recent.length - 1 - i] as TokenizedDoc;
        docs[pos] = d; labels[pos] = label; ids[pos] = d.id; classIndex[pos] = g; pos++;
      }
      reused += fromRecent;
      const used: TokenizedDoc[] = reuse ? [] : EMPTY;
      for (let i = 0; i < fresh; i++) {
        const wait = this.seq - this.headSeq(c);
        if (wait > waitMax) waitMax = wait;
        if (wait > this.counts.waitRecordsMax) {
          this.counts.waitRecordsMax = wait;
          this.slowestClass = label;
        }
        const d = this.shift(c);
        if (reuse) used.push(d);
        docs[pos] = d; labels[pos] = label; ids[pos] = d.id; classIndex[pos] = g; pos++;
      }
      this.clsServed[c] = (this.clsServed[c] as number) + K;
      usedByGroup.push(used);
    }
    // remembered only once every top-up is taken: remembering may drop another class's reuse store
    if (reuse) groups.forEach((c, g) => this.remember(c, usedByGroup[g] as TokenizedDoc[]));
    const phase = this.phase;
    const full = groups.length === phase.classesPerBatch;
    const batch: Batch = {
      step: this.step,
      epoch: this.epoch,
      phase,
      docs,
      labels,
      ids,
      classIndex,
      stats: { classes: groups.length, samplesPerClass: K, full, reused, poolRecords: this.total, waitRecordsMax: waitMax },
    };
    this.counts.batches++;
    if (full) this.counts.fullBatches++;
    else this.counts.shortBatches++;
    this.counts.recordsBatched += n - reused;
    this.counts.reused += reused;
    this.readSinceBatch = 0;
    this.step++;
    const next = phaseAt(this.options.schedule, this.step);
    if (next !== phase) {
      const kChanged = next.samplesPerClass !== phase.samplesPerClass;
      this.phase = next;
      if (kChanged) this.rebuildReady();
    }
    return batch;
  }

  /** Keeps a class's last used records for the reuse policy, within `reuseCapacity` over all classes. */
  private remember(c: number, used: readonly TokenizedDoc[]): void {
    const keep = Math.max(...this.options.schedule.map((ph) => ph.samplesPerClass)) - 1;
    if (keep <= 0 || this.options.reuseCapacity === 0) return;
    const before = (this.recent[c] as TokenizedDoc[]).length;
    const kept = [...(this.recent[c] as TokenizedDoc[]), ...used].slice(-keep);
    this.recent[c] = kept;
    this.recentTotal += kept.length - before;
    this.recentOrder.delete(c);
    this.recentOrder.add(c);
    for (const old of this.recentOrder) {
      if (this.recentTotal <= this.options.reuseCapacity) break;
      this.recentTotal -= (this.recent[old] as TokenizedDoc[]).length;
      this.recent[old] = [];
      this.recentOrder.delete(old);
    }
  }

  private warnOnce(key: string, message: () => string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.events.warn?.(message());
  }
}

const EMPTY: TokenizedDoc[] = [];
