// A custom stage graph: the library's own stages with a user's stages between them, a fork of the
// stream to a metrics sink, and a different source. Run: npx tsx examples/custom-graph.ts [corpus.jsonl]
import {
  drain, Graph, named, RecordError, RunContext, mapOrQuarantine, readShards, shuffleWindow, tokenize, validateDocs,
  type Doc, type Stage, type TokenizedDoc,
} from '../pipeline/index.js';

/** A user's own stage: lower-cases and collapses whitespace. A stage is just a function from stream to stream. */
export function normaliseText(): Stage<Doc, Doc> {
  return named('normalise-text', (s) => s.map((d) => ({ ...d, text: d.text.toLowerCase().replace(/\s+/g, ' ').trim() })));
}

/** A user's filter that quarantines (never silently drops) texts that are too short to learn from. */
export function minWords(ctx: RunContext, n: number): Stage<Doc, Doc> {
  return mapOrQuarantine(ctx.scope('min-words'), (d: Doc) => {
    if (d.text.split(' ').length < n) throw new RecordError('filtered', d.id, `fewer than ${n} words`);
    return d;
  });
}

/** Forks the stream: every item goes on downstream and also into a side counter of labels. */
export function countLabels(counts: Map<string, number>): Stage<TokenizedDoc, TokenizedDoc> {
  return named('count-labels', (s) => s.doto((d) => counts.set(d.label, (counts.get(d.label) ?? 0) + 1)));
}

/** Builds the graph; returns its description, the label counts and the accounting. */
export async function runExample(input: string, seed = 0) {
  const ctx = new RunContext({ seed });
  const counts = new Map<string, number>();
  const graph = Graph.from(readShards(ctx, { inputs: [input] }))
    .through(validateDocs(ctx))
    .through(normaliseText())
    .through(minWords(ctx, 3))
    .through(shuffleWindow<Doc>(ctx, { windowSize: 1000 }))
    .through(tokenize(ctx, { maxLength: 32 }))
    .through(countLabels(counts));
  // streams to the end without holding the corpus: the sink only counts
  const emitted = await graph.run(drain());
  return {
    graph: graph.describe(),
    emitted,
    read: ctx.counters.get('read.records'),
    quarantined: ctx.quarantine.counts(),
    labels: counts,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runExample(process.argv[2] ?? 'test/fixtures/small-corpus.jsonl');
  console.log(r.graph);
  console.log(JSON.stringify({ read: r.read, emitted: r.emitted, quarantined: r.quarantined, classes: r.labels.size }));
}
