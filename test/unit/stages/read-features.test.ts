import _ from 'highland';
import { describe, expect, it } from 'vitest';
import type { RawRecord } from '../../../schemas/raw-record.js';
import { packFeatures } from '../../../stages/metric/float16.js';
import { readFeatures } from '../../../stages/read-features.js';
import { collect } from '../../helpers/collect.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';

const rec = (row: number, value: unknown): RawRecord => ({ file: 'shard-00000.parquet', row, value, bytes: 10 });
const v = (...xs: number[]) => packFeatures(Float32Array.from(xs), 'float16');
const sample: RawRecord[] = [
  rec(0, { id: 'a', label: 'x', features: v(1, 2, 3) }),
  rec(1, { id: 'b', label: 'y', features: v(-0.5, 0, 0.25) }),
  rec(2, { id: 'c', label: 'y', features: v(1, 2) }),
  rec(3, { id: '', label: 'y', features: v(1, 2, 3) }),
  rec(4, { id: 'd', label: 'y', features: [1, 2, 3] }),
  rec(5, { id: 'e', label: 'z', input_ids: Int32Array.from([101, 102]) }),
];

describe('read-features', () => {
  stageContract('read-features', {
    make: (ctx) => readFeatures(ctx, { dim: 3, dtype: 'float16' }),
    sample,
    oneToOne: true,
    readAheadBound: 1,
    normalise: (d) => ({ ...d, ids: Array.from(d.ids), features: Array.from(d.features ?? []) }),
  });

  it('turns feature rows into docs with features and no ids; quarantines rows that are not', async () => {
    const ctx = testContext();
    const out = await collect(readFeatures(ctx, { dim: 3, dtype: 'float16' })(_(sample.slice())));
    expect(out.map((d) => [d.id, d.label, d.ids.length, Array.from(d.features ?? [])])).toEqual([['a', 'x', 0, [1, 2, 3]], ['b', 'y', 0, [-0.5, 0, 0.25]]]);
    expect(ctx.quarantine.counts()).toEqual({ 'read-features.schema_mismatch': 4 });
    expect(ctx.quarantine.entries[0]?.message).toMatch(/row 3: field "features" must hold 6 bytes \(3 × float16\); this file is not a feature cache shard/);
  });

  it('reads float32 vectors exactly', async () => {
    const x = Float32Array.from([0.1, -7.25, 3e-8]);
    const out = await collect(readFeatures(testContext(), { dim: 3, dtype: 'float32' })(_([rec(0, { id: 'a', label: 'x', features: packFeatures(x, 'float32') })])));
    expect(out[0]?.features).toEqual(x);
  });
});
