import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerMetricCommands, runLossCommand, runMetricsCommand } from '../../../pipeline/commands/metric-commands.js';
import { PEER_NAMES } from '../../../stages/metric/peers.js';

const fixtures = join(import.meta.dirname, '../../fixtures/oracle');

describe('loss / metrics commands', () => {
  it('loss --all prints every peer entry and the distance matrix', () => {
    const out = runLossCommand({ input: join(fixtures, '000_seed_b12_2x6_d8_norm_sq.json'), all: true }) as Record<string, Record<string, unknown>>;
    for (const name of PEER_NAMES) {
      expect(out[name]).toHaveProperty('loss');
      expect(out[name]).toHaveProperty('grad');
      expect(out[name]).toHaveProperty('numTriplets');
      expect(out[name]).toHaveProperty('numNonzero');
      expect(out[name]).toHaveProperty('triplets');
    }
    expect((out.distance as unknown as number[][]).length).toBe(12);
    expect(out.pml_tmm_hard!.triplets).toEqual([[7, 9, 8], [7, 9, 10]]);
  });

  it('loss --all writes ST semi-hard NaN as the string "NaN"', () => {
    const out = runLossCommand({ input: join(fixtures, '014_edge_all_unique_labels.json'), all: true }) as Record<string, Record<string, unknown>>;
    expect(out.st_batch_semi_hard!.loss).toBe('NaN');
    expect(JSON.parse(JSON.stringify(out)).st_batch_semi_hard.loss).toBe('NaN');
  });

  it('loss with options selects one configuration', () => {
    const out = runLossCommand({
      input: join(fixtures, '000_seed_b12_2x6_d8_norm_sq.json'), miner: 'batch-hard', reducer: 'mean', loss: 'margin', margin: 0.2, squared: true, normalize: true,
    });
    expect(out.loss).toBeCloseTo(0.05145780005458108, 12);
    expect(out.numTriplets).toBe(12);
  });

  it('the CLI flags of docs/metric-peers.md reproduce the --all entries', () => {
    const input = join(fixtures, '019_edge_duplicate_rows_norm_sq.json');
    const all = runLossCommand({ input, all: true }) as Record<string, { loss: number; grad: number[][] }>;
    const rows: [string, Parameters<typeof runLossCommand>[0]][] = [
      ['st_batch_semi_hard', { input, miner: 'semi-hard', bounded: false, fallback: 'easiest', tfMasked: true, reducer: 'mean', emptyBatch: 'nan', hingeGradient: 0.5 }],
      ['st_batch_hard', { input, miner: 'batch-hard', tfMasked: true, reducer: 'mean', hingeGradient: 1 }],
      ['st_batch_hard_soft_margin', { input, miner: 'batch-hard', tfMasked: true, loss: 'soft-margin', reducer: 'mean' }],
      ['st_batch_all', { input, miner: 'batch-all', reducer: 'avg-non-zero', hingeGradient: 1 }],
      ['pml_tmm_semihard', { input, miner: 'threshold', type: 'semihard', reducer: 'avg-non-zero' }],
      ['pml_easy_pos_semihard_neg', { input, miner: 'batch-hard', positive: 'easiest', negative: 'semi-hard' }],
    ];
    for (const [peer, opts] of rows) {
      const one = runLossCommand(opts) as { loss: number; grad: number[][] };
      expect(one.loss, peer).toBe(all[peer]!.loss);
      expect(one.grad, peer).toEqual(all[peer]!.grad);
    }
  });

  it('metrics prints the three retrieval metrics', () => {
    const out = runMetricsCommand({ input: join(fixtures, '025_eval_q_eq_r_5x8_d16_norm.json') });
    expect(out.precision_at_1).toBeCloseTo(0.975, 12);
    expect(out).toHaveProperty('r_precision');
    expect(out).toHaveProperty('mean_average_precision_at_r');
  });

  it('errors name the file and the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-metric-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{nope');
    expect(() => runLossCommand({ input: bad, all: true })).toThrow(/not valid JSON/);
    writeFileSync(bad, JSON.stringify({ case: { kind: 'triplet', embeddings: [[1, 2], [3, 4]], labels: ['x', 'y'] } }));
    expect(() => runLossCommand({ input: bad, all: true })).toThrow(/labels/);
    writeFileSync(bad, JSON.stringify({ kind: 'triplet', embeddings: [[1, 'NaN'], [3, 4]], labels: [0, 1] }));
    expect(() => runLossCommand({ input: bad, all: true })).toThrow(/row 0, column 1 is NaN/);
    expect(() => runLossCommand({ input: join(dir, 'missing.json'), all: true })).toThrow(/cannot read/);
  });

  it('registers `loss` and `metrics` on a commander program and prints one JSON object', async () => {
    const program = registerMetricCommands(new Command().exitOverride());
    expect(program.commands.map((c) => c.name())).toEqual(expect.arrayContaining(['loss', 'metrics']));
    const chunks: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => { chunks.push(s); return true; }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'tripletflow', 'metrics', '--input', join(fixtures, '027_eval_query_vs_reference.json')]);
    } finally {
      process.stdout.write = orig;
    }
    const out = JSON.parse(chunks.join(''));
    expect(out.precision_at_1).toBeCloseTo(0.8333333333333334, 12);
  });
});
