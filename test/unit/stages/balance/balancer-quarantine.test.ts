import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunContext } from '../../../../pipeline/context.js';
import { silentLogger } from '../../../../pipeline/logger.js';
import { safeStringify } from '../../../../pipeline/quarantine.js';
import type { TokenizedDoc } from '../../../../schemas/tokenized-doc.js';
import { balancerQuarantine } from '../../../../stages/balance/balancer-quarantine.js';

describe('balancerQuarantine', () => {
  it('writes exactly the line safeStringify would, for awkward ids, labels and messages', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tf-bq-')), 'quarantine.jsonl');
    const ctx = new RunContext({ logger: silentLogger(), quarantinePath: path });
    const events = balancerQuarantine(ctx, ctx.scope('balance-batches'));
    const docs: TokenizedDoc[] = [
      { id: 'plain', label: 'z1', ids: Int32Array.of(101, 5, 102) },
      { id: 'q"uo\\te', label: 'lab\nel\u2028', ids: new Int32Array(0) },
      { id: 'ünï😀\u0001', label: '"', ids: Int32Array.of(1) },
    ];
    const reasons = ['pool_overflow', 'incomplete_batch', 'pool_overflow', 'missing_label'] as const;
    const expected: string[] = [];
    let k = 0;
    for (const d of docs) {
      for (const reason of reasons) {
        const message = `msg ${reason} "${d.label}" \t ${k++ % 2}`;
        const doc = reason === 'missing_label' ? { ...d, label: '' } : d;
        events.reject(doc, reason, message);
        const record = reason === 'missing_label' ? doc : { id: d.id, label: d.label, tokens: d.ids.length };
        expected.push(safeStringify({ stage: 'balance-batches', reason, recordId: d.id, message, record }));
      }
    }
    await ctx.close();
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toEqual(expected);
    expect(ctx.quarantine.counts()).toEqual({
      'balance-batches.incomplete_batch': 3, 'balance-batches.missing_label': 3, 'balance-batches.pool_overflow': 6,
    });
  });
});
