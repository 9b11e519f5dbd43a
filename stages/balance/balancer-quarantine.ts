import type { RunContext, StageScope } from '../../pipeline/context.js';
import type { RejectReason } from '../../pipeline/errors.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import type { BalancerEvents } from './batch-balancer.js';

const NAME = 'balance-batches';
/** Distinct messages whose JSON is kept; pool_overflow has one message per class, so this bounds the cache, not the run. */
const MESSAGE_CACHE = 65_536;

/**
 * The `BalancerEvents` of `balance-batches` (the stage and the training feed): every record the balancer lets go
 * becomes one quarantine entry `{stage: 'balance-batches', reason, recordId, message, record}`, warnings go to the
 * stage's logger. A record that was fine but could not be batched is written as `{id, label, tokens}` (its token ids
 * stay out of the file), with its JSON line built directly: a Zipf corpus overflows ~40 % of its records, and the
 * generic stringifier would cost more than batching them. The `balance-batches.<reason>` counters are the caller's.
 */
export function balancerQuarantine(ctx: RunContext, scope: StageScope): BalancerEvents {
  const messageJson = new Map<string, string>();
  return {
    reject: (doc: TokenizedDoc, reason: RejectReason, message: string) => {
      if (reason === 'missing_label' || typeof doc.label !== 'string' || typeof doc.id !== 'string') {
        ctx.quarantine.add({ stage: NAME, reason, recordId: doc.id, message, record: doc });
        return;
      }
      const record = { id: doc.id, label: doc.label, tokens: doc.ids.length };
      // only pool_overflow messages repeat (one per class); incomplete_batch ones name their record
      let m = reason === 'pool_overflow' ? messageJson.get(message) : undefined;
      if (m === undefined) {
        m = JSON.stringify(message);
        if (reason === 'pool_overflow') {
          if (messageJson.size >= MESSAGE_CACHE) messageJson.clear();
          messageJson.set(message, m);
        }
      }
      const id = JSON.stringify(doc.id);
      // exactly safeStringify(entry): same keys, same order
      const json = `{"stage":"${NAME}","reason":"${reason}","recordId":${id},"message":${m},"record":{"id":${id},"label":${JSON.stringify(doc.label)},"tokens":${record.tokens}}}`;
      ctx.quarantine.add({ stage: NAME, reason, recordId: doc.id, message, record }, json);
    },
    warn: (message) => scope.logger.warn({ stage: NAME }, message),
  };
}
