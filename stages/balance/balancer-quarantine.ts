import type { RunContext, StageScope } from '../../pipeline/context.js';
import type { RejectReason } from '../../pipeline/errors.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import type { BalancerEvents } from './batch-balancer.js';

const NAME = 'balance-batches';
/** Line parts kept per message and per label (one of each per class): a bound on the caches, not on the run. */
const CACHE_ENTRIES = 65_536;

/**
 * The `BalancerEvents` of `balance-batches` (the stage and the training feed): every record the balancer lets go
 * becomes one quarantine entry `{stage: 'balance-batches', reason, recordId, message, record}` (under
 * `overflowEntries: 'per-class'`, overflow comes as one entry with `records: count` and `record: {label, count,
 * firstId, lastId}`), warnings go to the stage's logger. A record that was fine but could not be batched is written as
 * `{id, label, tokens}` (its token ids stay out of the file), with its JSON line built directly: a Zipf corpus
 * overflows ~40 % of its records, and the generic stringifier would cost more than batching them. The
 * `balance-batches.<reason>` counters are the caller's.
 */
export function balancerQuarantine(ctx: RunContext, scope: StageScope): BalancerEvents {
  // the parts of a line that repeat: after the record id, per message (`,"message":…,"record":{"id":`), and after it
  // again, per label (`,"label":…,"tokens":`); only pool_overflow messages repeat (incomplete_batch ones name their record)
  const afterId = new Map<string, string>();
  const afterLabel = new Map<string, string>();
  const cached = (map: Map<string, string>, key: string, make: () => string): string => {
    let v = map.get(key);
    if (v === undefined) {
      v = make();
      if (map.size >= CACHE_ENTRIES) map.clear();
      map.set(key, v);
    }
    return v;
  };
  return {
    reject: (doc: TokenizedDoc, reason: RejectReason, message: string) => {
      const { id, label } = doc;
      if (reason === 'missing_label' || typeof label !== 'string' || typeof id !== 'string') {
        ctx.quarantine.add({ stage: NAME, reason, recordId: id, message, record: doc });
        return;
      }
      const tokens = doc.ids.length;
      const mid = reason === 'pool_overflow'
        ? cached(afterId, message, () => `,"message":${JSON.stringify(message)},"record":{"id":`)
        : `,"message":${JSON.stringify(message)},"record":{"id":`;
      const idJson = JSON.stringify(id);
      // exactly safeStringify(entry): same keys, same order
      const json = `{"stage":"${NAME}","reason":"${reason}","recordId":${idJson}${mid}${idJson}${cached(afterLabel, label, () => `,"label":${JSON.stringify(label)},"tokens":`)}${tokens}}}`;
      ctx.quarantine.add({ stage: NAME, reason, recordId: id, message, record: { id, label, tokens } }, json);
    },
    overflowSummary: (label, count, firstId, lastId, message) => {
      ctx.quarantine.add({ stage: NAME, reason: 'pool_overflow', recordId: null, records: count, message, record: { label, count, firstId, lastId } });
    },
    warn: (message) => scope.logger.warn({ stage: NAME }, message),
  };
}
