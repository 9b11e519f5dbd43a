import _ from 'highland';
import type { RunContext } from '../pipeline/context.js';
import { FatalError } from '../pipeline/errors.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import type { Batch } from '../schemas/batch.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
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

/**
 * The stage, with the balancer behind it. Each call on a stream is one epoch: under `atEpochEnd: 'carry'` the
 * records left at the end of one epoch wait in `balancer` and join the next call's pools.
 */
export type BalanceBatchesStage = Stage<TokenizedDoc, Batch> & {
  readonly stageName: string;
  /** The pools, counters and generator shared by every epoch this stage runs (for stats and checkpoints). */
  readonly balancer: BatchBalancer;
};

const NAME = 'balance-batches';

/**
 * TokenizedDoc → Batch of P classes × K records from bounded per-class pools (see `BatchBalancer` for when batches
 * are taken and what leaves the pools). Never holds more than `poolCapacity` records, so it reads at most that far
 * ahead of its consumer; upstream errors pass through in place; it ends when its input ends. Records it cannot
 * batch are quarantined (`pool_overflow`, `incomplete_batch`, `missing_label`) with `{id, label, tokens}` only, so
 * an overflowing corpus does not copy its token ids into the quarantine file. Counters: `balance-batches.batches`,
 * `short_batches`, `records_in`, `records_out`, `reused`, `carried`, `carried_duplicate`, `pool_records_max`,
 * `wait_records_max`, `classes_seen`, `classes_never_served`, plus one per quarantine reason.
 *
 * Multi-epoch use: `const balance = balanceBatches(ctx, { ...opts, atEpochEnd: 'carry' });` then, for each epoch,
 * `epochDocs(e).through(balance)`, one after the other; after the last, `balance.balancer.finish()` quarantines
 * what is still carried.
 */
export function balanceBatches(ctx: RunContext, opts: BalanceBatchesOptions): BalanceBatchesStage {
  const scope = ctx.scope(NAME);
  const balancer = new BatchBalancer(opts, scope.rng(), {
    reject: (doc, reason, message) => {
      // the token ids stay out of the quarantine file for records that were fine but could not be batched
      const record = reason === 'missing_label' ? doc : { id: doc.id, label: doc.label, tokens: doc.ids.length };
      // the entry scope.quarantine() would write, without building an Error (and its stack) per overflowing record
      ctx.quarantine.add({ stage: NAME, reason, recordId: doc.id, message, record });
      // the `balance-batches.<reason>` counter is brought up to date by publish()
    },
    warn: (message) => scope.logger.warn({ stage: NAME }, message),
  });
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
  const stage = (s: Stream<TokenizedDoc>): Stream<Batch> => {
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
      const b = balancer.push(x as TokenizedDoc);
      // counters are brought up to date per batch, and every 4,096 records while no batch comes
      if (b || (++sincePublish & 4095) === 0) {
        publish();
        sincePublish = 0;
      }
      if (b) push(null, b);
      next();
    });
  };
  return Object.assign(named(NAME, stage), { balancer });
}
