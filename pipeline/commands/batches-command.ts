import type { Command } from 'commander';
import { parseBatchSchedule } from '../../schemas/batch-schedule.js';
import { runBatches, type BatchesOptionsInput } from '../batches.js';
import { ConfigError } from '../errors.js';
import { rejectRateExitCode } from '../exit-codes.js';
import { addDataOptions, choiceArg, dataOptionsFrom, intArg, numberArg } from './data-options.js';

/**
 * Adds `tripletflow batches`: the data options of `prepare`, then class-balanced P×K batches; one JSON line per
 * batch `{step, phase, shape, ids, labels}` (to --out or stdout), then a JSON summary line on stdout.
 */
export function registerBatchesCommand(program: Command, setExitCode: (code: number) => void = () => {}): void {
  addDataOptions(program.command('batches').description('build class-balanced batches (P classes × K records) from a corpus stream and print them as JSON lines'))
    .option('--classes <P>', 'classes per batch (P); required unless --schedule is given', intArg('--classes'))
    .option('--per-class <K>', 'records per class in a batch (K); required unless --schedule is given', intArg('--per-class'))
    .option('--schedule <spec>', 'batch-size schedule "step:PxK,...", e.g. "0:125x4,2000:250x4,6000:500x4"')
    .option('--pool-capacity <n>', 'records held in all class pools together (default 16 × the largest P·K)', intArg('--pool-capacity'))
    .option('--max-per-class <n>', 'records one class may hold waiting (default max(K, pool capacity / P))', intArg('--max-per-class'))
    .option('--max-wait-records <n>', 'records read without a batch before the shortage policy applies (default: the pool capacity)', intArg('--max-wait-records'))
    .option('--choose <how>', 'uniform | weighted (by records waiting)', choiceArg('--choose', ['uniform', 'weighted']), 'uniform')
    .option('--shortage <policy>', 'fewer-classes | skip | reuse, when fewer than P classes are ready', choiceArg('--shortage', ['fewer-classes', 'skip', 'reuse']), 'fewer-classes')
    .option('--min-classes <n>', 'fewest classes in a short batch', intArg('--min-classes'))
    .option('--at-end <policy>', 'quarantine | carry: records left when the input ends', choiceArg('--at-end', ['quarantine', 'carry']), 'quarantine')
    .option('--overflow-entries <how>', 'per-record | per-class: quarantine entries for records the class pools could not keep (pool_overflow)', choiceArg('--overflow-entries', ['per-record', 'per-class']), 'per-record')
    .option('--out <file>', 'write the batch lines to this JSONL file instead of stdout')
    .option('--quarantine <file>', 'quarantine JSONL (default: counted only)')
    .option('--max-reject-rate <r>', 'exit 2 when quarantined / read exceeds this fraction', numberArg('--max-reject-rate'), 1)
    .option('--no-progress', 'no progress bar')
    .action(async (o: Record<string, unknown>) => {
      if (o.schedule === undefined && (o.classes === undefined || o.perClass === undefined)) {
        throw new ConfigError('--classes', 'give --classes P and --per-class K (e.g. --classes 2 --per-class 6), or --schedule "0:125x4,2000:250x4"');
      }
      // parsed here only so that a bad schedule is reported against the flag
      if (typeof o.schedule === 'string') parseBatchSchedule(o.schedule, '--schedule');
      const input: BatchesOptionsInput = {
        ...dataOptionsFrom(o),
        classesPerBatch: o.classes as number | undefined,
        samplesPerClass: o.perClass as number | undefined,
        schedule: o.schedule as string | undefined,
        poolCapacity: o.poolCapacity as number | undefined,
        maxPerClass: o.maxPerClass as number | undefined,
        maxWaitRecords: o.maxWaitRecords as number | undefined,
        choose: o.choose as 'uniform' | 'weighted',
        shortage: o.shortage as 'fewer-classes' | 'skip' | 'reuse',
        minClassesPerBatch: o.minClasses as number | undefined,
        atEpochEnd: o.atEnd as 'quarantine' | 'carry',
        overflowEntries: o.overflowEntries as 'per-record' | 'per-class',
        out: o.out as string | undefined,
        quarantine: o.quarantine as string | undefined,
        progress: o.progress as boolean,
      };
      const report = await runBatches(input);
      process.stdout.write(`${JSON.stringify(report)}\n`);
      setExitCode(rejectRateExitCode(report.quarantined, report.records, o.maxRejectRate as number));
    });
}
