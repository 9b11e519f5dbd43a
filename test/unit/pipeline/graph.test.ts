import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import _ from 'highland';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { registerRunGraphCommand } from '../../../pipeline/commands/run-graph-command.js';
import { ConfigError, RecordError } from '../../../pipeline/errors.js';
import { buildGraph, checkGraphConfig, graphOutputKind, loadGraphConfig, runGraph } from '../../../pipeline/graph.js';
import { silentLogger } from '../../../pipeline/logger.js';
import { mapOrQuarantine } from '../../../pipeline/quarantine.js';
import { registerStage, StageRegistry, unregisterStage } from '../../../pipeline/registry.js';
import { named } from '../../../pipeline/stage.js';
import type { Batch } from '../../../schemas/batch.js';
import type { Doc } from '../../../schemas/doc.js';
import type { TokenizedDoc } from '../../../schemas/tokenized-doc.js';
import { collect } from '../../helpers/collect.js';
import { testContext } from '../../helpers/test-context.js';
import { expectConfigError } from '../../helpers/config-error.js';

const CORPUS = 'test/fixtures/small-corpus.jsonl';
const example = (): Record<string, unknown> => JSON.parse(readFileSync('examples/graph.json', 'utf8')) as Record<string, unknown>;
/** The example graph without its batching stage: every stage is 1:1 or quarantines. */
const docGraph = () => {
  const g = example();
  return { ...g, stages: (g.stages as unknown[]).slice(0, -1) };
};

const configError = expectConfigError;

async function runBatchesOf(config: unknown, seed: number) {
  const ctx = testContext({ seed });
  const graph = buildGraph(ctx, config);
  const batches = (await collect(graph.stream())) as Batch[];
  return { ctx, graph, batches };
}

describe('graph from a JSON config', () => {
  it('builds examples/graph.json and describes itself', () => {
    const ctx = testContext({ seed: 7 });
    const graph = buildGraph(ctx, example());
    expect(graph.describe()).toBe('read → validate → shuffle-window → tokenize → balance-batches');
    expect(graph.names()).toEqual(['read', 'validate', 'shuffle-window', 'tokenize', 'balance-batches']);
    expect(graphOutputKind(example())).toBe('batch');
    expect(graphOutputKind(docGraph())).toBe('tokenized-doc');
  });

  it('builds nothing it does not need: describing a graph reads no record', () => {
    const ctx = testContext();
    buildGraph(ctx, example());
    expect(ctx.counters.get('read.records')).toBe(0);
  });

  it('runs the doc-level graph with the accounting holding: read = emitted + quarantined', async () => {
    const ctx = testContext({ seed: 7 });
    const graph = buildGraph(ctx, docGraph());
    expect(graph.describe()).toBe('read → validate → shuffle-window → tokenize');
    const docs = (await collect(graph.stream())) as TokenizedDoc[];
    const read = ctx.counters.get('read.records');
    expect(read).toBe(308);
    expect(ctx.quarantine.count()).toBeGreaterThan(0);
    expect(read).toBe(docs.length + ctx.quarantine.count());
    expect(new Set(docs.map((d) => d.id)).size).toBe(docs.length);
    expect(docs.every((d) => d.ids.length <= 32)).toBe(true);
  });

  it('runs to 4x4 batches, every record batched or quarantined, the same twice with the same seed', async () => {
    const a = await runBatchesOf(example(), 7);
    expect(a.batches.length).toBeGreaterThan(5);
    for (const b of a.batches) {
      expect(b.stats.samplesPerClass).toBe(4);
      expect(b.ids.length).toBe(b.stats.classes * 4);
    }
    expect(a.batches.filter((b) => b.stats.full).length).toBeGreaterThan(0);
    const batched = a.batches.reduce((n, b) => n + b.ids.length - b.stats.reused, 0);
    expect(a.ctx.counters.get('read.records')).toBe(batched + a.ctx.quarantine.count());

    const b = await runBatchesOf(example(), 7);
    expect(b.batches.map((x) => x.ids)).toEqual(a.batches.map((x) => x.ids));
    expect(b.ctx.quarantine.counts()).toEqual(a.ctx.quarantine.counts());
    const c = await runBatchesOf(example(), 8);
    expect(c.batches.map((x) => x.ids)).not.toEqual(a.batches.map((x) => x.ids));
  });

  it('runGraph reports the accounting and takes the seed from the config unless told otherwise', async () => {
    const r = await runGraph(docGraph(), { logger: silentLogger() });
    expect(r.graph).toBe('read → validate → shuffle-window → tokenize');
    expect(r.seed).toBe(7);
    expect(r.records).toBe(r.emitted + r.quarantined);
    expect(Object.values(r.quarantineByReason).reduce((x, y) => x + y, 0)).toBe(r.quarantined);
    expect((await runGraph(docGraph(), { seed: 3, logger: silentLogger() })).seed).toBe(3);
  });
});

describe('bad graph configs are ConfigErrors with clear messages', () => {
  const withStages = (...stages: unknown[]) => ({ source: { stage: 'read', options: { inputs: [CORPUS] } }, stages });

  it('an unknown stage names the known ones', () => {
    const e = configError(() => checkGraphConfig(withStages({ stage: 'validate' }, { stage: 'dedupe' })));
    expect(e.path).toBe('stages[1].stage');
    expect(e.message).toContain('unknown stage "dedupe"');
    expect(e.message).toContain('known stages: balance-batches, encode-features, read, read-features, read-tokenized, shuffle-window, tokenize, tokenize-chunks, validate');
  });

  it('a bad option names its path and what arrived', () => {
    const e = configError(() => checkGraphConfig(withStages({ stage: 'validate' }, { stage: 'tokenize' }, { stage: 'shuffle-window', options: { windowSize: 0 } })));
    expect(e.path).toBe('stages[2].options.windowSize');
    expect(e.message).toMatch(/^stages\[2\]\.options\.windowSize: shuffle-window: .*>= 1.*use 1 to disable shuffling.*\(got 0\)/);
    const typo = configError(() => checkGraphConfig(withStages({ stage: 'shuffle-window', options: { windowsize: 10 } })));
    expect(typo.path).toBe('stages[0].options.windowsize');
    expect(typo.message).toContain('shuffle-window takes windowSize, epoch');
    const src = configError(() => checkGraphConfig({ source: { stage: 'read', options: {} }, stages: [] }));
    expect(src.path).toBe('source.options.inputs');
    expect(src.message).toContain('read: required: give the corpus files');
    const cross = configError(() => checkGraphConfig(withStages({ stage: 'validate' }, { stage: 'tokenize' }, { stage: 'balance-batches', options: { classesPerBatch: 4 } })));
    expect(cross.path).toBe('stages[2].options.samplesPerClass');
    expect(cross.message).toContain('required unless a schedule is given');
  });

  it('incompatible neighbours name both stages, the kinds, and the stage that fits between', () => {
    const e = configError(() => checkGraphConfig(withStages({ stage: 'tokenize' })));
    expect(e.path).toBe('stages[0].stage');
    expect(e.message).toBe('stages[0].stage: "tokenize" cannot follow "read": tokenize takes doc items but read emits raw-record items; put "validate" between them');
    const late = configError(() => checkGraphConfig(withStages({ stage: 'validate' }, { stage: 'shuffle-window' }, { stage: 'balance-batches', options: { classesPerBatch: 2, samplesPerClass: 2 } })));
    expect(late.message).toContain('"balance-batches" cannot follow "shuffle-window": balance-batches takes tokenized-doc or tokenized-chunk items but shuffle-window emits doc items; put "tokenize" or "tokenize-chunks" between them');
  });

  it('a missing source, a stage as the source, or a source among the stages', () => {
    const missing = configError(() => checkGraphConfig({ stages: [{ stage: 'validate' }] }));
    expect(missing.path).toBe('source');
    expect(missing.message).toContain('a graph needs a source first');
    expect(missing.message).toContain('known sources: read');
    const notSource = configError(() => checkGraphConfig({ source: { stage: 'validate' } }));
    expect(notSource.path).toBe('source.stage');
    expect(notSource.message).toContain('"validate" is a stage, not a source');
    const twice = configError(() => checkGraphConfig(withStages({ stage: 'read', options: { inputs: [CORPUS] } })));
    expect(twice.path).toBe('stages[0].stage');
    expect(twice.message).toContain('"read" is a source');
  });

  it('a misspelt top-level field, a non-object, and a file that is not JSON', () => {
    expect(configError(() => checkGraphConfig({ ...withStages(), stagse: [] })).path).toBe('stagse');
    expect(configError(() => checkGraphConfig([])).path).toBe('graph');
    const dir = mkdtempSync(join(tmpdir(), 'graph-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "source": ');
    expect(configError(() => loadGraphConfig(bad)).path).toBe(bad);
    expect(() => loadGraphConfig(join(dir, 'missing.json'))).toThrow(/cannot read the graph config/);
  });

  it('checks everything before building anything: a bad last stage reads no file', () => {
    const e = configError(() => buildGraph(testContext(), { source: { stage: 'read', options: { inputs: ['no/such/file.jsonl'] } }, stages: [{ stage: 'nope' }] }));
    expect(e.path).toBe('stages[0].stage');
  });
});

describe('user stages in JSON graphs', () => {
  afterEach(() => {
    unregisterStage('min-words');
    unregisterStage('inline');
  });

  it('a registered stage is looked up, option-checked, kind-checked and run like a built-in', async () => {
    registerStage('min-words', {
      description: 'quarantines texts of fewer than `words` words',
      optionsSchema: z.strictObject({ words: z.number().int().min(1).default(3) }),
      input: 'doc',
      output: 'doc',
      create: (ctx, o) => mapOrQuarantine(ctx.scope('min-words'), (d: Doc) => {
        if (d.text.trim().split(/\s+/).length < o.words) throw new RecordError('filtered', d.id, `fewer than ${o.words} words`);
        return d;
      }),
    });
    const config = {
      seed: 1,
      source: { stage: 'read', options: { inputs: [CORPUS] } },
      stages: [{ stage: 'validate' }, { stage: 'min-words', options: { words: 8 } }, { stage: 'tokenize', options: { workers: 0, maxLength: 16 } }],
    };
    const ctx = testContext({ seed: 1 });
    const graph = buildGraph(ctx, config);
    expect(graph.describe()).toBe('read → validate → min-words → tokenize');
    const docs = await collect(graph.stream());
    expect(ctx.counters.get('min-words.filtered')).toBeGreaterThan(0);
    expect(ctx.quarantine.counts()['min-words.filtered']).toBe(ctx.counters.get('min-words.filtered'));
    expect(ctx.counters.get('read.records')).toBe(docs.length + ctx.quarantine.count());

    const bad = configError(() => checkGraphConfig({ ...config, stages: [{ stage: 'validate' }, { stage: 'min-words', options: { words: 0 } }] }));
    expect(bad.path).toBe('stages[1].options.words');
    const order = configError(() => checkGraphConfig({ ...config, stages: [{ stage: 'min-words' }] }));
    expect(order.message).toContain('"min-words" cannot follow "read": min-words takes doc items but read emits raw-record items; put "validate" between them');
  });

  it('a user source and an unnamed user stage get their registry names in describe()', async () => {
    const reg = StageRegistry.withBuiltins();
    reg.register('inline', {
      role: 'source',
      description: 'raw records from the config itself',
      optionsSchema: z.strictObject({ texts: z.array(z.string()).min(1) }),
      output: 'raw-record',
      create: (ctx, o) => named('whatever', () => _(o.texts.map((text, row) => {
        ctx.counters.add('read.records');
        return { file: 'inline', row, bytes: text.length, value: { text, label: row % 2 ? 'odd' : 'even' } };
      }))),
    });
    reg.register('tag', {
      description: 'appends a marker to the text',
      optionsSchema: z.strictObject({ marker: z.string().default('!') }),
      input: ['doc'],
      output: 'same',
      create: (_ctx, o) => (s: Highland.Stream<Doc>) => s.map((d) => ({ ...d, text: d.text + o.marker })),
    });
    const ctx = testContext();
    const graph = buildGraph(ctx, { source: { stage: 'inline', options: { texts: ['a b', 'c d', ''] } }, stages: [{ stage: 'validate' }, { stage: 'tag' }] }, reg);
    expect(graph.describe()).toBe('inline → validate → tag');
    const docs = (await collect(graph.stream())) as Doc[];
    expect(docs.map((d) => d.text)).toEqual(['a b!', 'c d!']);
    expect(ctx.quarantine.counts()).toEqual({ 'validate.empty_text': 1 });
  });
});

describe('tripletflow run --graph', () => {
  it('prints one JSON line of accounting and sets the exit code', async () => {
    const program = new Command('tripletflow').exitOverride();
    let code = -1;
    registerRunGraphCommand(program, (c) => { code = c; });
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync(['run', '--graph', 'examples/graph.json', '--seed', '5'], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(Object.keys(r).sort()).toEqual(['emitted', 'graph', 'quarantineByReason', 'quarantined', 'records', 'seconds', 'seed']);
    expect(r).toMatchObject({ graph: 'read → validate → shuffle-window → tokenize → balance-batches', seed: 5, records: 308 });
    expect(r.emitted as number).toBeGreaterThan(0);
    expect(code).toBe(0);
  });
});
