import { readFileSync } from 'node:fs';
import _ from 'highland';
import { describe, expect, it } from 'vitest';
import { buildGraph, graphOutputKind } from '../../../pipeline/graph.js';
import type { Batch } from '../../../schemas/batch.js';
import type { Doc } from '../../../schemas/doc.js';
import type { TokenizedDoc } from '../../../schemas/tokenized-doc.js';
import { tokenize } from '../../../stages/tokenize.js';
import { tokenizeChunks } from '../../../stages/tokenize-chunks.js';
import { collect } from '../../helpers/collect.js';
import { stageContract } from '../../helpers/stage-contract.js';
import { testContext } from '../../helpers/test-context.js';

const fixture = new URL('../../fixtures/tokenizer-real-text.jsonl', import.meta.url);
const real: Doc[] = readFileSync(fixture, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);
// two docs that tokenize to nothing, so some chunks lose records to the quarantine
const docs: Doc[] = [...real.slice(0, 30), { id: 'empty:1', text: '\u200b', label: 'x' }, ...real.slice(30, 45), { id: 'empty:2', text: '\u0000', label: 'x' }];
const norm = (c: TokenizedDoc[]) => c.map((d) => ({ id: d.id, label: d.label, ids: [...d.ids] }));

for (const workers of [0, 1]) {
  describe(`tokenize-chunks stage contract, workers: ${workers}`, () => {
    stageContract(`tokenize-chunks(workers ${workers})`, {
      make: (ctx) => tokenizeChunks(ctx, { workers, chunkDocs: 4, chunksInFlight: 2 }),
      sample: docs.slice(0, 40),
      // two chunks in flight plus the one being filled, counted in docs: at most 3 chunks out
      readAheadBound: 4 * 3,
      normalise: norm,
    });
  });
}

describe('tokenize-chunks', () => {
  it('emits tokenize\'s records, in order, in chunks of at most chunkDocs, with the same quarantine and counters', async () => {
    for (const [workers, chunkDocs] of [[0, 7], [1, 256], [0, 1]] as const) {
      const a = testContext();
      const b = testContext();
      const flat = await collect(tokenize(a, { workers, chunkDocs, maxLength: 32 })(_(docs.slice())));
      const chunks = await collect(tokenizeChunks(b, { workers, chunkDocs, maxLength: 32 })(_(docs.slice())));
      expect(chunks.every((c) => c.length >= 1 && c.length <= chunkDocs)).toBe(true);
      expect(norm(chunks.flat())).toEqual(norm(flat));
      expect(b.quarantine.entries).toEqual(a.quarantine.entries);
      expect(b.counters.snapshot()).toEqual(a.counters.snapshot());
      expect(b.counters.get('tokenize.empty_after_tokenize')).toBe(2);
    }
  });

  it('in a JSON graph, tokenize-chunks → balance-batches gives the batches of tokenize → balance-batches', async () => {
    const config = JSON.parse(readFileSync('examples/graph.json', 'utf8')) as { stages: { stage: string }[] };
    const chunked = { ...config, stages: config.stages.map((s) => (s.stage === 'tokenize' ? { ...s, stage: 'tokenize-chunks' } : s)) };
    expect(graphOutputKind(chunked)).toBe('batch');
    const run = async (cfg: unknown) => {
      const ctx = testContext({ seed: 7 });
      const graph = buildGraph(ctx, cfg);
      const batches = (await collect(graph.stream())) as Batch[];
      return { graph: graph.describe(), ids: batches.map((b) => b.ids), counters: ctx.counters.snapshot(), quarantine: ctx.quarantine.counts() };
    };
    const a = await run(config);
    const b = await run(chunked);
    expect(b.graph).toBe('read → validate → shuffle-window → tokenize-chunks → balance-batches');
    expect(a.ids.length).toBeGreaterThan(3);
    expect(b.ids).toEqual(a.ids);
    expect(b.counters).toEqual(a.counters);
    expect(b.quarantine).toEqual(a.quarantine);
  });
});
