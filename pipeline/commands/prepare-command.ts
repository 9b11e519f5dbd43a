import type { Command } from 'commander';
import { runPrepare } from '../prepare.js';
import { addDataOptions, dataOptionsFrom, intArg, numberArg } from './data-options.js';
import { rejectRateExitCode } from '../exit-codes.js';

/** Adds `tripletflow prepare`: read → validate → shuffle → tokenize, optionally writing tokenized shards. */
export function registerPrepareCommand(program: Command, setExitCode: (code: number) => void): void {
  addDataOptions(program.command('prepare').description('read, validate, shuffle and tokenize a corpus; with --out write tokenized parquet shards'))
    .option('--out <dir>', 'write tokenized parquet shards (id, label, input_ids) here, in the shuffled order')
    .option('--records-per-shard <n>', 'records per output shard', intArg('--records-per-shard'), 1_000_000)
    .option('--quarantine <file>', 'quarantine JSONL (default <out>/_quarantine.jsonl with --out)')
    .option('--max-reject-rate <r>', 'exit 2 when quarantined / read exceeds this fraction', numberArg('--max-reject-rate'), 1)
    .option('--overwrite', 'replace the shards an earlier run left in --out')
    .option('--no-progress', 'no progress bar')
    .action(async (o: Record<string, unknown>) => {
      const report = await runPrepare({
        ...dataOptionsFrom(o),
        out: o.out as string | undefined,
        recordsPerShard: o.recordsPerShard as number,
        quarantine: o.quarantine as string | undefined,
        progress: o.progress as boolean,
        overwrite: Boolean(o.overwrite),
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      setExitCode(rejectRateExitCode(report.quarantined, report.records, o.maxRejectRate as number));
    });
}
