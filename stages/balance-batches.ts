import _ from 'highland';
import type { RunContext } from '../pipeline/context.js';
import { FatalError } from '../pipeline/errors.js';
import { named, type Stream } from '../pipeline/stage.js';
import type { Batch } from '../schemas/batch.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { balancerQuarantine } from './balance/balancer-quarantine.js';
import { BatchBalancer, type BalanceProgress, type BatchBalancerOptions } from './balance/batch-balancer.js';

export type {
  BalanceStats, BalanceProgress, BalancerState, BatchBalancerOptions, ClassChoice, EpochEndPolicy, ShortagePolicy,
} from './balance/batch-balancer.js';
export { BatchBalancer } from './balance/batch-balancer.js';

/**
 * Options of `balance-batches`: every field of `BatchBalancerOptions` (P, K or a schedule; `poolCapacity`,
 * `maxPerClass`, `maxWaitRecords` in records; `choose`; `shortage`; `minClassesPerBatch`; `reuseCapacity`;
 * `atEpochEnd`), with the defaults documented there.
 */
export type BalanceBatchesOptions = BatchBalancerOptions;

/** What the stage takes: tokenized docs one by one, or in chunks (`tokenize-chunks`), or both mixed. */
export type BalanceBatchesInput = TokenizedDoc | TokenizedDoc[];

/**
 * The stage, with the balancer behind it. Each call on a stream is one epoch: under `atEpochEnd: 'carry'` the
 * records left at the end of one epoch wait in `balancer` and join the next call's pools.
 */
export type BalanceBatchesStage = {
  // one signature per input shape: highland streams are invariant in their item type
  (s: Stream<TokenizedDoc>): Stream<Batch>;
  (s: Stream<TokenizedDoc[]>): Stream<Batch>;
  (s: Stream<BalanceBatchesInput>): Stream<Batch>;
  readonly stageName: string;
  /** The pools, counters and generator shared by every epoch this stage runs (for stats and checkpoints). */
  readonly balancer: BatchBalancer;
};

const NAME = 'balance-batches';
/** Records between two counter updates while no batch comes. */
const PUBLISH_EVERY = 4096;

/**
 * TokenizedDoc → Batch of P classes × K records from bounded per-class pools (see `BatchBalancer` for when batches
 * are taken and what leaves the pools). Takes docs one by one or in chunks (`TokenizedDoc[]`, as `tokenize-chunks`
 * emits them: one stream step per chunk instead of per record; same batches either way). Never holds more than
 * `poolCapacity` records, so it reads at most that far ahead of its consumer (plus the chunk being read, whose
 * batches wait already formed); upstream errors pass through in place; it ends when its input ends. Records it
 * cannot batch are quarantined (`pool_overflow`, `incomplete_batch`, `missing_label`) with `{id, label, tokens}`
 * only, so an overflowing corpus does not copy its token ids into the quarantine file. Counters: `balance-batches.batches`,
 * `short_batches`, `records_in`, `records_out`, `reused`, `carried`, `carried_duplicate`, `pool_records_max`,
 * `wait_records_max`, `classes_seen`, `classes_never_served`, plus one per quarantine reason.
 *
 * use: docs.through(tokenizeChunks(ctx, {})).through(balanceBatches(ctx, { classesPerBatch: 500, samplesPerClass: 4 }))
 * Multi-epoch use: `const balance = balanceBatches(ctx, { ...opts, atEpochEnd: 'carry' });` then, for each epoch,
 * `epochDocs(e).through(balance)`, one after the other; after the last, `balance.balancer.finish()` quarantines
 * what is still carried.
 */
export function balanceBatches(ctx: RunContext, opts: BalanceBatchesOptions): BalanceBatchesStage {
  const scope = ctx.scope(NAME);
  const balancer = new BatchBalancer(opts, scope.rng(), balancerQuarantine(ctx, scope));
  let published: BalanceProgress = balancer.progress();
  const publishedReasons = new Map<string, number>();
  const publish = (): void => {
    const now = balancer.progress();
    if (now.quarantinedTotal !== published.quarantinedTotal) {
      for (const [reason, n] of balancer.quarantinedByReason()) {
        scope.count(reason, n - (publishedReasons.get(reason) ?? 0));
        publishedReasons.set(reason, n);
      }
    }
    const delta = (k: keyof BalanceProgress) => now[k] - published[k];
    scope.count('batches', delta('batches'));
    scope.count('short_batches', delta('shortBatches'));
    scope.count('records_in', delta('recordsIn'));
    scope.count('records_out', delta('recordsBatched') + delta('reused'));
    scope.count('reused', delta('reused'));
    scope.count('carried_duplicate', delta('carriedDuplicates'));
    ctx.counters.max(`${NAME}.pool_records_max`, now.maxPoolRecords);
    ctx.counters.max(`${NAME}.wait_records_max`, now.waitRecordsMax);
    published = now;
  };
  let running = false;
  let sincePublish = 0;
  const stage = (s: Stream<BalanceBatchesInput>): Stream<Batch> => {
    let started = false;
    return s.consume<Batch>((err, x, push, next) => {
      if (!started) {
        started = true;
        if (running) {
          push(new FatalError(`${NAME}: an epoch started while the previous one is still running; run epochs one after the other through the same stage`));
          push(null, _.nil);
          return;
        }
        running = true;
      }
      if (err) {
        push(err);
        next();
        return;
      }
      if (_.isNil(x)) {
        for (const b of balancer.endEpoch()) push(null, b);
        publish();
        const st = balancer.stats();
        ctx.counters.set(`${NAME}.carried`, st.carried);
        ctx.counters.set(`${NAME}.classes_seen`, st.classesSeen);
        ctx.counters.set(`${NAME}.classes_never_served`, st.classesNeverServed);
        running = false;
        push(null, _.nil);
        return;
      }
      if (Array.isArray(x)) {
        // a chunk (tokenize-chunks): one highland step for all its records; its batches are pushed as they form
        const docs = x as readonly TokenizedDoc[];
        for (let i = 0; i < docs.length; i++) {
          const b = balancer.push(docs[i] as TokenizedDoc);
          if (b) {
            publish();
            sincePublish = 0;
            push(null, b);
          }
        }
        sincePublish += docs.length;
        if (sincePublish >= PUBLISH_EVERY) {
          publish();
          sincePublish = 0;
        }
      } else {
        const b = balancer.push(x as TokenizedDoc);
        // counters are brought up to date per batch, and every 4,096 records while no batch comes
        if (b || ++sincePublish >= PUBLISH_EVERY) {
          publish();
          sincePublish = 0;
        }
        if (b) push(null, b);
      }
      next();
    });
  };
  return Object.assign(named(NAME, stage), { balancer }) as BalanceBatchesStage;
}
