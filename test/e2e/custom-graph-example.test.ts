import { describe, expect, it } from 'vitest';
import { runExample } from '../../examples/custom-graph.js';

describe('examples/custom-graph.ts', () => {
  it('runs user stages between built-in ones, describes the graph, and accounts for every record', async () => {
    const r = await runExample('test/fixtures/small-corpus.jsonl', 1);
    expect(r.graph).toBe('read → validate → normalise-text → min-words → shuffle-window → tokenize → count-labels');
    const quarantined = Object.values(r.quarantined).reduce((a, b) => a + b, 0);
    expect(r.read).toBe(r.emitted + quarantined);
    expect(r.quarantined['min-words.filtered']).toBeGreaterThanOrEqual(1);
    expect(r.labels.size).toBe(10);
    expect([...r.labels.values()].reduce((a, b) => a + b, 0)).toBe(r.emitted);
  });
});
