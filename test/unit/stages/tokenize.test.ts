import { readFileSync } from 'node:fs';
import _ from 'highland';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../pipeline/errors.js';
import { Graph } from '../../../pipeline/stage.js';
import type { Doc } from '../../../schemas/doc.js';
import { TokenizedDocSchema, type TokenizedDoc } from '../../../schemas/tokenized-doc.js';
import { loadTokenizer, type TextTokenizer } from '../../../stages/adapters/tokenizer.js';
import { tokenize } from '../../../stages/tokenize.js';
import { collect, collectAll } from '../../helpers/collect.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';
import { TORTURE } from '../../fixtures/tokenizer-torture.js';

const fixture = new URL('../../fixtures/tokenizer-real-text.jsonl', import.meta.url);
const real: Doc[] = readFileSync(fixture, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);
// real text plus hard cases; two of them ('\u200B…' and '\u0000') hold no token at all
const docs: Doc[] = [
  ...real,
  ...TORTURE.filter((t) => t.length > 0).map((text, i) => ({ id: `torture:${i}`, text, label: 'torture' })),
];
const norm = (d: TokenizedDoc) => ({ id: d.id, label: d.label, ids: [...d.ids] });

let tok: TextTokenizer;
beforeAll(async () => {
  tok = await loadTokenizer();
});

for (const workers of [0, 1]) {
  describe(`tokenize stage contract, workers: ${workers}`, () => {
    stageContract(`tokenize(workers ${workers})`, {
      make: (ctx) => tokenize(ctx, { workers, chunkDocs: 4, chunksInFlight: 2 }),
      sample: docs.slice(0, 40),
      oneToOne: true,
      // two chunks in flight plus the one being filled
      readAheadBound: 4 * 3,
      normalise: norm,
    });
  });
}

describe('tokenize', () => {
  it('gives the tokenizer\'s ids, truncated to maxLength with [SEP] last, in input order', async () => {
    const ctx = testContext();
    const out = await collect(tokenize(ctx, { workers: 0, maxLength: 32 })(_(docs.slice())));
    const expected = docs
      .map((d) => ({ id: d.id, label: d.label, ids: [...tok.encode(d.text, 32)] }))
      .filter((d) => d.ids.length > 2);
    expect(out.map(norm)).toEqual(expected);
    for (const d of out) {
      TokenizedDocSchema.parse(d);
      expect(d.ids.length).toBeLessThanOrEqual(32);
      expect(d.ids[0]).toBe(101);
      expect(d.ids[d.ids.length - 1]).toBe(102);
    }
  });

  it('gives identical output on 0, 1 and 2 workers, whatever the chunk size', async () => {
    const run = (workers: number, chunkDocs: number) => collect(tokenize(testContext(), { workers, chunkDocs, maxLength: 64 })(_(docs.slice()))).then((o) => o.map(norm));
    const base = await run(0, 256);
    expect(base.length).toBeGreaterThan(300);
    expect(await run(1, 7)).toEqual(base);
    expect(await run(2, 5)).toEqual(base);
    expect(await run(2, 256)).toEqual(base);
  });

  it('quarantines a document with no token as empty_after_tokenize and counts it', async () => {
    const ctx = testContext();
    const input: Doc[] = [
      { id: 'a', text: 'hello', label: 'x' },
      { id: 'b', text: '\u200B\u0001\uFEFF', label: 'x' },
      { id: 'c', text: ' \t\n ', label: 'x' },
      { id: 'd', text: 'world', label: 'y' },
    ];
    const out = await collect(tokenize(ctx, { workers: 1 })(_(input)));
    expect(out.map((d) => d.id)).toEqual(['a', 'd']);
    expect(ctx.counters.get('tokenize.empty_after_tokenize')).toBe(2);
    expect(ctx.quarantine.entries.map((e) => [e.stage, e.reason, e.recordId])).toEqual([
      ['tokenize', 'empty_after_tokenize', 'b'],
      ['tokenize', 'empty_after_tokenize', 'c'],
    ]);
    expect(ctx.quarantine.entries[0]?.record).toEqual(input[1]);
  });

  it('is named tokenize in a graph description', () => {
    const g = Graph.from(() => _<Doc>([])).through(tokenize(testContext()));
    expect(g.describe()).toMatch(/→ tokenize$/);
  });

  it('rejects bad options with a ConfigError naming the field', () => {
    expect(() => tokenize(testContext(), { maxLength: 2 })).toThrow(ConfigError);
    expect(() => tokenize(testContext(), { maxLength: 2 })).toThrow(/tokenize\.maxLength: must be an integer >= 3 \(got 2\)/);
    expect(() => tokenize(testContext(), { workers: -1 })).toThrow(/tokenize\.workers/);
    expect(() => tokenize(testContext(), { chunkDocs: 0 })).toThrow(/tokenize\.chunkDocs/);
  });

  it('fails the run with a FatalError naming tokenizer.json when the tokenizer directory is missing', async () => {
    const got = await collectAll(tokenize(testContext(), { tokenizer: '/nonexistent/tok', workers: 1 })(_(docs.slice(0, 3))));
    const errors = got.filter((g): g is { error: unknown } => 'error' in g);
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0]?.error as Error).name).toBe('FatalError');
    expect((errors[0]?.error as Error).message).toMatch(/\/nonexistent\/tok\/tokenizer\.json/);
  });
});
