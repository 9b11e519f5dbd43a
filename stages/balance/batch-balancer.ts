import { ConfigError, type RejectReason } from '../../pipeline/errors.js';
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
}

/** Where the balancer sends records it cannot batch, and its warnings. */
export interface BalancerEvents {
  /** A record leaves the pools without a batch; the caller quarantines it (nothing vanishes). */
  reject(doc: TokenizedDoc, reason: RejectReason, message: string): void;
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
  }[];
  /** Ready classes as indices into `classes`, in the order class choice sees them. */
  readonly ready: readonly number[];
  /** Classes holding reuse records, least recently used first. */
  readonly recentOrder: readonly number[];
  readonly carriedIds: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
}

/** A class's waiting records, oldest first, with their arrival numbers: a ring that grows by doubling, never shrinks. */
class ClassQueue {
  private docs: (TokenizedDoc | undefined)[] = [];
  private seqs = new Float64Array(0);
  private head = 0;
  private mask = -1;
  size = 0;

  push(doc: TokenizedDoc, seq: number): void {
    if (this.size === this.docs.length) this.grow();
    const i = (this.head + this.size) & this.mask;
    this.docs[i] = doc;
    this.seqs[i] = seq;
    this.size++;
  }

  /** Removes and returns the oldest record. */
  shift(): TokenizedDoc {
    const doc = this.docs[this.head] as TokenizedDoc;
    // cleared so a record that left is not kept alive by its slot
    this.docs[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return doc;
  }

  /** The i-th oldest record. */
  at(i: number): TokenizedDoc {
    return this.docs[(this.head + i) & this.mask] as TokenizedDoc;
  }

  /** Arrival number of the i-th oldest record. */
  seqAt(i: number): number {
    return this.seqs[(this.head + i) & this.mask] as number;
  }

  /** Arrival number of the oldest record (the queue must not be empty). */
  headSeq(): number {
    return this.seqs[this.head] as number;
  }

  /** Position of the record that arrived as `seq`, or -1. */
  indexOfSeq(seq: number): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const q = this.seqAt(mid);
      if (q === seq) return mid;
      if (q < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private grow(): void {
    const cap = Math.max(4, this.docs.length * 2);
    const docs = new Array<TokenizedDoc | undefined>(cap);
    const seqs = new Float64Array(cap);
    for (let i = 0; i < this.size; i++) {
      docs[i] = this.at(i);
      seqs[i] = this.seqAt(i);
    }
    this.docs = docs;
    this.seqs = seqs;
    this.head = 0;
    this.mask = cap - 1;
  }
}

interface ClassPool {
  readonly idx: number;
  readonly label: string;
  readonly q: ClassQueue;
  /** Position in the ready array, -1 when fewer than K records wait. */
  readyPos: number;
  /** Records of this class placed in batches. */
  served: number;
  /** Last used records, newest last (reuse policy only). */
  recent: TokenizedDoc[];
  /** The quarantine message for this class's overflow, built once. */
  overflowMessage?: string;
}

const NAME = 'balance-batches';

/** Fills in and checks the defaults; a bad option is a ConfigError naming `balance-batches.<field>`. */
export function resolveBalancerOptions(opts: BatchBalancerOptions): ResolvedBalancerOptions {
  const p = (f: string) => `${NAME}.${f}`;
  const intAtLeast = (field: string, v: number | undefined, min: number, hint: string): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) {
      throw new ConfigError(p(field), `must be an integer >= ${min} (got ${v}); ${hint}`);
    }
  };
  intAtLeast('classesPerBatch', opts.classesPerBatch, 1, 'P is the number of distinct classes in a batch');
  intAtLeast('samplesPerClass', opts.samplesPerClass, 1, 'K is the number of records of each class in a batch');
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
  intAtLeast('poolCapacity', opts.poolCapacity, maxBatch, `the pools must hold at least one full batch (largest P·K = ${maxBatch})`);
  const poolCapacity = opts.poolCapacity ?? 16 * maxBatch;
  intAtLeast('maxPerClass', opts.maxPerClass, maxK, `a class must be able to hold K = ${maxK} records`);
  const maxPerClass = opts.maxPerClass ?? Math.min(poolCapacity, Math.max(maxK, Math.ceil(poolCapacity / maxP)));
  intAtLeast('maxWaitRecords', opts.maxWaitRecords, 1, 'it counts records read since the last batch');
  intAtLeast('minClassesPerBatch', opts.minClassesPerBatch, 1, 'use 1 to allow one-class batches');
  intAtLeast('reuseCapacity', opts.reuseCapacity, 0, 'it bounds the records kept for the reuse policy');
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
  };
}

/**
 * Stream-free core of `balance-batches`: per-class FIFO pools bounded in total (`poolCapacity`) and per class
 * (`maxPerClass`), from which it takes P classes × K records. Push records one at a time; a push returns the batch
 * it completed, if any. Every record pushed ends in exactly one place: a batch, the caller's reject callback
 * (quarantine), the pools (carried), or — for a next-epoch copy of a carried record — the `carriedDuplicates` count.
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
  private readonly classes: ClassPool[] = [];
  private readonly byLabel = new Map<string, ClassPool>();
  private ready: ClassPool[] = [];
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
  // arrival order over all pools, for evicting the record that waited longest; stale entries are skipped lazily
  // typed arrays: no write barrier or GC tracing per record; entries [fifoHead, fifoLen) in arrival order
  private fifoCls = new Int32Array(1024);
  private fifoSeq = new Float64Array(1024);
  private fifoHead = 0;
  private fifoLen = 0;
  private recentTotal = 0;
  // classes by last use, oldest first: the reuse store drops the least recently used class first
  private readonly recentOrder = new Map<number, ClassPool>();
  private carriedIds = new Set<string>();
  private readonly warned = new Set<string>();
  private readonly counts = {
    batches: 0, fullBatches: 0, shortBatches: 0, recordsIn: 0, recordsBatched: 0, reused: 0, carried: 0,
    carriedDuplicates: 0, quarantinedTotal: 0, maxPoolRecords: 0, waitRecordsMax: 0, epochs: 0,
  };
  private readonly quarantined = new Map<string, number>();
  private slowestClass: string | null = null;

  constructor(opts: BatchBalancerOptions, private readonly rng: Rng, private readonly events: BalancerEvents) {
    this.options = resolveBalancerOptions(opts);
    this.phase = phaseAt(this.options.schedule, 0);
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
    if (typeof doc.label !== 'string' || doc.label.length === 0) {
      this.reject(doc, 'missing_label', `${NAME}: record ${doc.id} has an empty label; expected a non-empty class label (validate-docs rejects these upstream)`);
      return undefined;
    }
    this.seq++;
    this.readSinceBatch++;
    let cls = this.byLabel.get(doc.label);
    if (!cls) {
      cls = { idx: this.classes.length, label: doc.label, q: new ClassQueue(), readyPos: -1, served: 0, recent: [] };
      this.classes.push(cls);
      this.byLabel.set(doc.label, cls);
    }
    let batch: Batch | undefined;
    if (waiting(cls) >= this.options.maxPerClass) {
      batch = this.takeFull(cls);
      if (!batch && this.classesWaiting < this.phase.classesPerBatch) batch = this.takeShort(cls);
      if (!batch) {
        this.warnOnce('class', () => `${NAME}: class "${cls.label}" already has ${this.options.maxPerClass} records waiting (maxPerClass) and no batch could take it; its oldest records are quarantined as pool_overflow. The class arrives faster than batches use it (K = ${this.phase.samplesPerClass} per batch): raise samplesPerClass or maxPerClass, or downsample it upstream.`);
        cls.overflowMessage ??= `${NAME}: class "${cls.label}" held maxPerClass = ${this.options.maxPerClass} records and no batch could take one; evicted its oldest`;
        this.evictHead(cls, cls.overflowMessage);
      }
    } else if (this.total >= this.options.poolCapacity) {
      const stalest = this.stalest() as ClassPool;
      this.evictHead(stalest, `${NAME}: pool full (${this.options.poolCapacity} records) and no batch could be formed (${this.ready.length} classes ready, ${this.phase.classesPerBatch} needed); evicted the record that waited longest`);
    }
    this.add(cls, doc);
    if (!batch && this.total >= this.options.poolCapacity) {
      batch = this.takeFull();
      if (!batch) {
        // a short batch only when the record that waited longest is in a ready class (too few classes); when it is
        // a straggler, the pool is clogged by classes short of K: the next arrival evicts it, and a short batch would
        // only shrink batches without unclogging anything (reuse may still complete a full batch)
        const stalest = this.stalest();
        batch = this.takeShort(undefined, false, !(stalest && stalest.readyPos >= 0));
      }
      if (!batch) {
        this.warnOnce('full', () => `${NAME}: pool full (${this.total} records, ${this.classesWaiting} classes waiting) with ${this.ready.length} classes ready of ${this.phase.classesPerBatch} needed (shortage policy '${this.options.shortage}'); the longest-waiting records are quarantined as pool_overflow. Raise poolCapacity, or lower classesPerBatch/samplesPerClass.`);
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
    if (this.options.atEpochEnd === 'quarantine') {
      for (let b = this.takeShort(undefined, true); b; b = this.takeShort(undefined, true)) out.push(b);
      this.quarantineWaiting();
      this.carriedIds = new Set();
    } else {
      const ids = new Set<string>();
      for (const c of this.classes) for (let i = 0; i < c.q.size; i++) ids.add(c.q.at(i).id);
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
    const n = this.quarantineWaiting();
    this.counts.carried = 0;
    this.carriedIds = new Set();
    return n;
  }

  /** The records waiting in the pools now (after `endEpoch` under `carry`: the carried ones), in arrival order. */
  waitingRecords(): TokenizedDoc[] {
    const out: TokenizedDoc[] = [];
    this.forEachWaiting((c, i) => out.push(c.q.at(i)));
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
    for (const c of this.classes) {
      if (c.served > 0) served++;
      else if (neverServed.length < 20) neverServed.push(c.label);
    }
    const stalest = this.stalest();
    return {
      ...this.counts,
      quarantined: Object.fromEntries([...this.quarantined.entries()].sort(([a], [b]) => a.localeCompare(b))),
      poolRecords: this.total,
      classesSeen: this.classes.length,
      classesServed: served,
      classesNeverServed: this.classes.length - served,
      neverServedSample: neverServed,
      slowestClass: this.slowestClass,
      oldestWaitingRecords: stalest ? this.seq - stalest.q.headSeq() : 0,
    };
  }

  /** Every record `snapshot()` names (waiting, and kept for reuse), for a checkpoint to save next to it. */
  heldRecords(): TokenizedDoc[] {
    const out = this.waitingRecords();
    for (const c of this.classes) out.push(...c.recent);
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
      classes: this.classes.map((c) => ({
        label: c.label,
        ids: Array.from({ length: c.q.size }, (_x, i) => c.q.at(i).id),
        seqs: Array.from({ length: c.q.size }, (_x, i) => c.q.seqAt(i)),
        recent: c.recent.map((d) => d.id),
        served: c.served,
      })),
      ready: this.ready.map((c) => c.idx),
      recentOrder: [...this.recentOrder.keys()],
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
    const arrivals: [number, number][] = [];
    for (const s of state.classes) {
      const c: ClassPool = {
        idx: b.classes.length, label: s.label, q: new ClassQueue(), readyPos: -1, served: s.served, recent: s.recent.map(lookup),
      };
      s.ids.forEach((id, i) => c.q.push(lookup(id), s.seqs[i] as number));
      b.classes.push(c);
      b.byLabel.set(c.label, c);
      b.total += c.q.size;
      if (c.q.size > 0) b.classesWaiting++;
      for (const q of s.seqs) arrivals.push([q, c.idx]);
      b.recentTotal += c.recent.length;
    }
    for (const i of state.recentOrder) b.recentOrder.set(i, b.classes[i] as ClassPool);
    for (const i of state.ready) b.markReady(b.classes[i] as ClassPool);
    arrivals.sort((x, y) => x[0] - y[0]);
    for (const [q, idx] of arrivals) b.fifoPush(idx, q);
    b.carriedIds = new Set(state.carriedIds);
    for (const [k, v] of Object.entries(state.counts)) {
      if (k.startsWith('quarantined.')) b.quarantined.set(k.slice('quarantined.'.length), v);
      else if (k in b.counts) (b.counts as Record<string, number>)[k] = v;
    }
    return b;
  }

  // --- internals ---

  private add(c: ClassPool, doc: TokenizedDoc): void {
    if (waiting(c) === 0) this.classesWaiting++;
    c.q.push(doc, this.seq);
    this.fifoPush(c.idx, this.seq);
    this.total++;
    if (this.total > this.counts.maxPoolRecords) this.counts.maxPoolRecords = this.total;
    if (c.readyPos < 0 && waiting(c) >= this.phase.samplesPerClass) this.markReady(c);
  }

  /** Removes and returns the oldest waiting record of `c`. */
  private shift(c: ClassPool): TokenizedDoc {
    const doc = c.q.shift();
    this.total--;
    if (c.q.size === 0) this.classesWaiting--;
    if (c.readyPos >= 0 && waiting(c) < this.phase.samplesPerClass) this.unmarkReady(c);
    return doc;
  }

  private evictHead(c: ClassPool, message: string): void {
    const doc = this.shift(c);
    // the record id is in the quarantine entry; one message per class keeps overflow cheap
    this.reject(doc, 'pool_overflow', message);
  }

  private reject(doc: TokenizedDoc, reason: RejectReason, message: string): void {
    this.counts.quarantinedTotal++;
    this.quarantined.set(reason, (this.quarantined.get(reason) ?? 0) + 1);
    this.events.reject(doc, reason, message);
  }

  private quarantineWaiting(): number {
    const docs = this.waitingRecords();
    for (const c of this.classes) while (waiting(c) > 0) this.shift(c);
    this.fifoHead = 0;
    this.fifoLen = 0;
    const { classesPerBatch: P, samplesPerClass: K } = this.phase;
    for (const d of docs) {
      this.reject(d, 'incomplete_batch', `${NAME}: end of input with too few records left for a ${P}x${K} batch (record ${d.id}); use atEpochEnd 'carry' to keep them for the next epoch`);
    }
    return docs.length;
  }

  /** Calls `f(class, index)` for every waiting record in arrival order. */
  private forEachWaiting(f: (c: ClassPool, i: number) => void): void {
    for (let i = this.fifoHead; i < this.fifoLen; i++) {
      const c = this.classes[this.fifoCls[i] as number] as ClassPool;
      const q = this.fifoSeq[i] as number;
      if (c.q.size === 0 || q < c.q.headSeq()) continue;
      f(c, c.q.indexOfSeq(q));
    }
  }

  /** The class holding the record that has waited longest, or undefined when the pools are empty. */
  private stalest(): ClassPool | undefined {
    while (this.fifoHead < this.fifoLen) {
      const c = this.classes[this.fifoCls[this.fifoHead] as number] as ClassPool;
      if (c.q.size > 0 && (this.fifoSeq[this.fifoHead] as number) >= c.q.headSeq()) return c;
      this.fifoHead++;
    }
    return undefined;
  }

  /** Appends an arrival entry; when the arrays are full, drops the dead entries in place or grows them. */
  private fifoPush(idx: number, seq: number): void {
    if (this.fifoLen === this.fifoCls.length) {
      let w = 0;
      for (let i = this.fifoHead; i < this.fifoLen; i++) {
        const c = this.classes[this.fifoCls[i] as number] as ClassPool;
        const q = this.fifoSeq[i] as number;
        if (c.q.size > 0 && q >= c.q.headSeq()) {
          this.fifoCls[w] = c.idx;
          this.fifoSeq[w] = q;
          w++;
        }
      }
      this.fifoHead = 0;
      this.fifoLen = w;
      // live entries never exceed the pool, so at twice its size a compaction frees at least half
      if (w * 2 > this.fifoCls.length) {
        const cls = new Int32Array(this.fifoCls.length * 2);
        const seqs = new Float64Array(this.fifoCls.length * 2);
        cls.set(this.fifoCls.subarray(0, w));
        seqs.set(this.fifoSeq.subarray(0, w));
        this.fifoCls = cls;
        this.fifoSeq = seqs;
      }
    }
    this.fifoCls[this.fifoLen] = idx;
    this.fifoSeq[this.fifoLen] = seq;
    this.fifoLen++;
  }

  private markReady(c: ClassPool): void {
    c.readyPos = this.ready.length;
    this.ready.push(c);
  }

  private unmarkReady(c: ClassPool): void {
    const last = this.ready.pop() as ClassPool;
    if (last !== c) {
      this.ready[c.readyPos] = last;
      last.readyPos = c.readyPos;
    }
    c.readyPos = -1;
  }

  private rebuildReady(): void {
    for (const c of this.ready) c.readyPos = -1;
    this.ready = [];
    // class-index order, so a rebuilt set (phase change, restore) does not depend on history
    for (const c of this.classes) if (waiting(c) >= this.phase.samplesPerClass) this.markReady(c);
  }

  /** A full batch of P ready classes (with `forced` among them), or undefined when fewer than P are ready. */
  private takeFull(forced?: ClassPool): Batch | undefined {
    const P = this.phase.classesPerBatch;
    if (this.ready.length < P) return undefined;
    return this.emit(this.choose(P, forced), []);
  }

  /** A short batch (or one completed by reuse) under the shortage policy, or undefined. */
  private takeShort(forced?: ClassPool, atEnd = false, requireFull = false): Batch | undefined {
    const { shortage, minClassesPerBatch } = this.options;
    const { classesPerBatch: P, samplesPerClass: K } = this.phase;
    if (shortage === 'skip' || this.ready.length >= P) return undefined;
    const topUps: ClassPool[] = [];
    if (shortage === 'reuse' && (atEnd || this.seq >= this.reuseRetrySeq)) {
      const candidates: ClassPool[] = [];
      for (const c of this.classes) {
        const w = waiting(c);
        if (w > 0 && w < K && c.recent.length >= K - w) candidates.push(c);
      }
      // longest-waiting classes first: reuse exists to serve the rare ones
      candidates.sort((a, b) => a.q.headSeq() - b.q.headSeq());
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
    if (forced && forced.readyPos < 0) return undefined;
    return this.emit(this.choose(this.ready.length, forced), topUps);
  }

  /** Picks `n` ready classes (all of them when n equals the ready count), `forced` first when given. */
  private choose(n: number, forced?: ClassPool): ClassPool[] {
    const r = this.ready;
    let start = 0;
    if (forced && forced.readyPos >= 0) {
      this.swapReady(0, forced.readyPos);
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
      keys[i] = Math.log(1 - this.rng.next()) / waiting(r[start + i] as ClassPool);
      order[i] = i;
    }
    order.sort((a, b) => (keys[b] as number) - (keys[a] as number) || a - b);
    const out = start === 1 ? [r[0] as ClassPool] : [];
    for (let i = 0; out.length < n; i++) out.push(r[start + (order[i] as number)] as ClassPool);
    return out;
  }

  private swapReady(i: number, j: number): void {
    if (i === j) return;
    const a = this.ready[i] as ClassPool;
    const b = this.ready[j] as ClassPool;
    this.ready[i] = b;
    this.ready[j] = a;
    b.readyPos = i;
    a.readyPos = j;
  }

  private emit(chosen: readonly ClassPool[], topUps: readonly ClassPool[]): Batch {
    const K = this.phase.samplesPerClass;
    const groups = [...chosen, ...topUps];
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
      const c = groups[g] as ClassPool;
      const fresh = Math.min(K, waiting(c));
      const fromRecent = K - fresh;
      // reused records first, newest used first, so a top-up is the class's most recent records
      for (let i = 0; i < fromRecent; i++) {
        const d = c.recent[c.recent.length - 1 - i] as TokenizedDoc;
        docs[pos] = d; labels[pos] = c.label; ids[pos] = d.id; classIndex[pos] = g; pos++;
      }
      reused += fromRecent;
      const used: TokenizedDoc[] = [];
      for (let i = 0; i < fresh; i++) {
        const wait = this.seq - c.q.headSeq();
        if (wait > waitMax) waitMax = wait;
        if (wait > this.counts.waitRecordsMax) {
          this.counts.waitRecordsMax = wait;
          this.slowestClass = c.label;
        }
        const d = this.shift(c);
        used.push(d);
        docs[pos] = d; labels[pos] = c.label; ids[pos] = d.id; classIndex[pos] = g; pos++;
      }
      c.served += K;
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
  private remember(c: ClassPool, used: readonly TokenizedDoc[]): void {
    const keep = Math.max(...this.options.schedule.map((ph) => ph.samplesPerClass)) - 1;
    if (keep <= 0 || this.options.reuseCapacity === 0) return;
    const before = c.recent.length;
    c.recent = [...c.recent, ...used].slice(-keep);
    this.recentTotal += c.recent.length - before;
    this.recentOrder.delete(c.idx);
    this.recentOrder.set(c.idx, c);
    for (const [idx, old] of this.recentOrder) {
      if (this.recentTotal <= this.options.reuseCapacity) break;
      this.recentTotal -= old.recent.length;
      old.recent = [];
      this.recentOrder.delete(idx);
    }
  }

  private warnOnce(key: string, message: () => string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.events.warn?.(message());
  }
}

function waiting(c: ClassPool): number {
  return c.q.size;
}
