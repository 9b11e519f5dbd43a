import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuarantineCounter } from '../../../pipeline/report/quarantine-counter.js';

describe('QuarantineCounter', () => {
  it('counts a line per record, and a summary line (overflowEntries per-class) as its records', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tf-qc-')), 'quarantine.jsonl');
    const lines = [
      { stage: 'validate', reason: 'bad_json', recordId: 'a:1', message: 'm', record: '{' },
      { stage: 'balance-batches', reason: 'pool_overflow', recordId: null, records: 1000, message: 'm', record: { label: 'x', count: 1000 } },
      { stage: 'balance-batches', reason: 'pool_overflow', recordId: 'a:7', message: 'm', record: { id: 'a:7' } },
    ];
    writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    const { counts } = await new QuarantineCounter(file).read();
    expect(counts).toEqual({ 'validate.bad_json': 1, 'balance-batches.pool_overflow': 1001 });
  });
});
