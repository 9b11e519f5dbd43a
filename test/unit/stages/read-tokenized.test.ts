import _ from 'highland';
import { describe, expect, it } from 'vitest';
import type { RawRecord } from '../../../schemas/raw-record.js';
import { readTokenized } from '../../../stages/read-tokenized.js';
import { collect } from '../../helpers/collect.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';

const rec = (row: number, value: unknown): RawRecord => ({ file: 'shard-00000.parquet', row, value, bytes: 10 });
const sample: RawRecord[] = [
  rec(0, { id: 'a', label: 'x', input_ids: Int32Array.from([101, 7, 102]) }),
  rec(1, { id: 'b', label: 'y', input_ids: [101, 8, 102] }),
  rec(2, { id: 'c', label: 'y', input_ids: [] }),
  rec(3, { id: '', label: 'y', input_ids: [1] }),
  rec(4, { id: 'd', label: 'y', input_ids: ['x'] }),
  rec(5, { text: 'not tokenized', label: 'z' }),
];

describe('read-tokenized', () => {
  stageContract('read-tokenized', {
    make: (ctx) => readTokenized(ctx),
    sample,
    oneToOne: true,
    readAheadBound: 1,
    normalise: (d) => ({ ...d, ids: Array.from(d.ids) }),
  });

  it('turns prepared rows into TokenizedDocs and quarantines rows that are not', async () => {
    const ctx = testContext();
    const out = await collect(readTokenized(ctx)(_(sample.slice())));
    expect(out.map((d) => [d.id, d.label, Array.from(d.ids)])).toEqual([['a', 'x', [101, 7, 102]], ['b', 'y', [101, 8, 102]]]);
    expect(ctx.quarantine.counts()).toEqual({ 'read-tokenized.schema_mismatch': 4 });
    expect(ctx.quarantine.entries[3]?.message).toMatch(/shard-00000\.parquet row 6: field "id" must be a non-empty string; this file is not a tokenized shard/);
  });
});
