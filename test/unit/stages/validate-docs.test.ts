import _ from 'highland';
import { describe, expect, it } from 'vitest';
import type { RawRecord } from '../../../schemas/raw-record.js';
import { validateDocs } from '../../../stages/validate-docs.js';
import { collect } from '../../helpers/collect.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';

const rec = (row: number, value: unknown, parseError?: RawRecord['parseError']): RawRecord =>
  ({ file: 'f.jsonl', row, value, bytes: 10, ...(parseError ? { parseError } : {}) });

const sample: RawRecord[] = [
  rec(0, { text: 'hello', label: 'a' }),
  rec(1, '{not json', 'bad_json'),
  rec(2, { text: '', label: 'a' }),
  rec(3, { label: 'a' }),
  rec(4, { text: 'x', label: 3 }),
  rec(5, { text: 'x' }),
  rec(6, { text: 12, label: 'a' }),
  rec(7, [1, 2]),
  rec(8, { text: 'ok', label: '' }),
  rec(9, 'bytes', 'invalid_utf8'),
  rec(10, { text: 'y', label: 1.5 }),
  rec(11, { text: 'z', label: 'b', id: 'custom-id' }),
];

describe('validate-docs', () => {
  stageContract('validate-docs', { make: (ctx) => validateDocs(ctx), sample, oneToOne: true, readAheadBound: 1 });

  it('keeps good records with file:row ids and quarantines each bad one with its reason', async () => {
    const ctx = testContext();
    const out = await collect(validateDocs(ctx)(_(sample.slice())));
    expect(out).toEqual([
      { id: 'f.jsonl:0', text: 'hello', label: 'a' },
      { id: 'f.jsonl:4', text: 'x', label: '3' },
      { id: 'custom-id', text: 'z', label: 'b' },
    ]);
    expect(ctx.quarantine.counts()).toEqual({
      'validate.bad_json': 1,
      'validate.bad_type': 2,
      'validate.empty_text': 1,
      'validate.invalid_utf8': 1,
      'validate.missing_label': 2,
      'validate.missing_text': 1,
      'validate.schema_mismatch': 1,
    });
    const missing = ctx.quarantine.entries.find((e) => e.reason === 'missing_text');
    expect(missing?.message).toMatch(/f\.jsonl row 4: field "text" is missing; set --text-field/);
    expect(missing?.record).toEqual({ label: 'a' });
    expect(missing?.recordId).toBe('f.jsonl:3');
  });

  it('reads configurable field names', async () => {
    const ctx = testContext();
    const out = await collect(validateDocs(ctx, { textField: 'body', labelField: 'y', idField: 'uid' })(
      _([rec(0, { body: 'b', y: 'c', uid: 7 })]),
    ));
    expect(out).toEqual([{ id: '7', text: 'b', label: 'c' }]);
  });
});
