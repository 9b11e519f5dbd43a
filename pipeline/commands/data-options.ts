import { InvalidArgumentError, type Command } from 'commander';
import type { DataOptionsInput } from '../../schemas/data-options.js';
import { defaultTrainCorpus } from '../paths.js';

/** Parses a flag value that must be one of `allowed`, with a message naming the flag. */
export function choiceArg(name: string, allowed: readonly string[]) {
  return (v: string): string => {
    if (!allowed.includes(v)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')} (got "${v}")`);
    return v;
  };
}

/** Parses an integer flag value, with a message naming the flag. */
export function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer (got "${v}")`);
    return n;
  };
}

/** Parses a number flag value, with a message naming the flag. */
export function numberArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number (got "${v}")`);
    return n;
  };
}

const collectArg = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** Adds the flags shared by every command that reads a corpus (prepare, batches, train). */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .option('--input <path>', 'file, directory or glob of .jsonl/.jsonl.gz/.parquet shards (repeatable; default: the bundled banking77 train split)', collectArg)
    .option('--format <format>', 'auto | jsonl | parquet', 'auto')
    .option('--text-field <name>', 'field holding the text', 'text')
    .option('--label-field <name>', 'field holding the class label', 'label')
    .option('--id-field <name>', 'field holding the record id (default id; missing ids become <file>:<row>)', 'id')
    .option('--shuffle-window <n>', 'records held by the seeded shuffle window (1 disables it)', intArg('--shuffle-window'), 10_000)
    .option('--interleave <n>', 'shards read at once, interleaved block by block', intArg('--interleave'), 4)
    .option('--no-shuffle-shards', 'read shards in sorted order')
    .option('--seed <n>', 'the run seed; every random choice derives from it', intArg('--seed'), 0)
    .option('--epoch <n>', 'epoch number (each epoch has its own shuffle)', intArg('--epoch'), 0)
    .option('--tokenizer <dir>', 'tokenizer directory holding tokenizer.json (default: bundled bert-base-uncased)')
    .option('--max-length <n>', 'tokens per document, [CLS] and [SEP] included', intArg('--max-length'), 128)
    .option('--workers <n>', 'tokenizer worker threads (0 = main thread)', intArg('--workers'), 1)
    .option('--limit <n>', 'stop after this many records', intArg('--limit'))
    .option('--skip-bad-files', 'count and skip missing, empty or corrupt files instead of stopping', false);
}

/** The data options from the flags `addDataOptions` added. */
export function dataOptionsFrom(o: Record<string, unknown>): DataOptionsInput {
  return {
    inputs: (o.input as string[] | undefined) ?? [defaultTrainCorpus],
    format: o.format as DataOptionsInput['format'],
    textField: o.textField as string,
    labelField: o.labelField as string,
    idField: o.idField as string,
    shuffleWindow: o.shuffleWindow as number,
    interleave: o.interleave as number,
    shuffleShards: o.shuffleShards as boolean,
    seed: o.seed as number,
    epoch: o.epoch as number,
    tokenizer: o.tokenizer as string | undefined,
    maxLength: o.maxLength as number,
    workers: o.workers as number,
    limit: o.limit as number | undefined,
    skipBadFiles: o.skipBadFiles as boolean,
  };
}
