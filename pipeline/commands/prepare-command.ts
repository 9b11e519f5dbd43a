import type { Command } from 'commander';
import { runPrepare } from '../prepare.js';
import { addDataOptions, dataOptionsFrom, intArg, numberArg } from './data-options.js';
import { rejectRateExitCode } from '../exit-codes.js';

/** Adds `tripletflow prepare`: read → validate → shuffle → tokenize, optionally writing tokenized shards (or, with --encoder, a feature cache). */
export function registerPrepareCommand(program: Command, setExitCode: (code: number) => void): void {
  addDataOptions(program.command('prepare').description('read, validate, shuffle and tokenize a corpus; with --out write tokenized parquet shards'))
    .option('--out <dir>', 'write tokenized parquet shards (id, label, input_ids) here, in the shuffled order')
    .option('--records-per-shard <n>', 'records per output shard', intArg('--records-per-shard'), 1_000_000)
    .option('--quarantine <file>', 'quarantine JSONL (default <out>/_quarantine.jsonl with --out)')
    .option('--max-reject-rate <r>', 'exit 2 when quarantined / read exceeds this fraction', numberArg('--max-reject-rate'), 1)
    .option('--overwrite', 'replace the shards an earlier run left in --out')
    .option('--encoder <dir>', 'write a feature cache: run this local pretrained model (config.json, tokenizer.json, onnx/model.onnx) and store pooled features instead of token ids')
    .option('--encoder-device <device>', 'with --encoder: cpu | cuda', 'cpu')
    .option('--pooling <how>', 'with --encoder: mean | cls', 'mean')
    .option('--encoder-batch-size <n>', 'with --encoder: documents per encoder run', intArg('--encoder-batch-size'), 64)
    .option('--encoder-prefetch <n>', 'with --encoder: encoder batches in flight', intArg('--encoder-prefetch'), 2)
    .option('--encoder-threads <n>', 'with --encoder: ONNX Runtime intra-op threads (0 = every core)', intArg('--encoder-threads'), 1)
    .option('--feature-dtype <dtype>', 'with --encoder: float32 | float16 (half the disk)', 'float32')
    .option('--no-progress', 'no progress bar')
    .action(async (o: Record<string, unknown>) => {
      const report = await runPrepare({
        ...dataOptionsFrom(o),
        out: o.out as string | undefined,
        recordsPerShard: o.recordsPerShard as number,
        quarantine: o.quarantine as string | undefined,
        progress: o.progress as boolean,
        overwrite: Boolean(o.overwrite),
        encoder: o.encoder as string | undefined,
        encoderDevice: o.encoderDevice as 'cpu' | 'cuda',
        pooling: o.pooling as 'mean' | 'cls',
        encoderBatchSize: o.encoderBatchSize as number,
        encoderPrefetch: o.encoderPrefetch as number,
        encoderThreads: o.encoderThreads as number,
        featureDtype: o.featureDtype as 'float32' | 'float16',
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      setExitCode(rejectRateExitCode(report.quarantined, report.records, o.maxRejectRate as number));
    });
}
