import type { Command } from 'commander';
import { rejectRateExitCode } from '../exit-codes.js';
import { loadGraphConfig, runGraph } from '../graph.js';
import { intArg, numberArg } from './data-options.js';

/**
 * Adds `tripletflow run --graph FILE.json [--seed S]`: builds the graph a JSON config describes (see
 * `GraphConfigSchema`), drains it counting items, and prints one JSON line
 * `{graph, seed, records, emitted, quarantined, quarantineByReason, seconds}` on stdout.
 */
export function registerRunGraphCommand(program: Command, setExitCode: (code: number) => void = () => {}): void {
  program.command('run')
    .description('build a stage graph from a JSON config ({ "source": {...}, "stages": [...] }), run it and print its accounting as JSON')
    .requiredOption('--graph <file>', 'JSON graph config: { "seed"?, "source": { "stage": "read", "options": {...} }, "stages": [{ "stage": "validate" }, ...] }')
    .option('--seed <n>', "the run seed (default: the config's seed, else 0)", intArg('--seed'))
    .option('--quarantine <file>', "quarantine JSONL (default: the config's quarantine, else counted only)")
    .option('--max-reject-rate <r>', 'exit 2 when quarantined / read exceeds this fraction', numberArg('--max-reject-rate'), 1)
    .action(async (o: { graph: string; seed?: number; quarantine?: string; maxRejectRate: number }) => {
      const config = loadGraphConfig(o.graph);
      const report = await runGraph(config, {
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.quarantine !== undefined ? { quarantinePath: o.quarantine } : {}),
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      setExitCode(rejectRateExitCode(report.quarantined, report.records, o.maxRejectRate));
    });
}
