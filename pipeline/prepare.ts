import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { DataOptionsSchema } from '../schemas/data-options.js';
import { FeatureShardWriter, TokenizedShardWriter } from '../stages/adapters/parquet-writer.js';
import { openFeatureEncoder, type FeatureEncoder } from '../stages/encode-features.js';
import { encoderRunFields } from '../schemas/encoder-options.js';
import { FeatureDtypeSchema } from '../schemas/feature-cache.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { parseConfig } from './config.js';
import { RunContext } from './context.js';
import { buildDataGraph } from './data-graph.js';
import type { Logger } from './logger.js';
import { peakRssMb, startProgress } from './progress.js';
import { checkOwnTokenizer, checkPretrainedLength } from './training/pretrained.js';
import { named, pullOne, type Sink, type Stream } from './stage.js';

/** `tripletflow prepare`: the data options plus where to write tokenized shards. */
export const PrepareOptionsSchema = DataOptionsSchema.extend({
  /** Output directory for tokenized parquet shards; without it the corpus is only scanned. */
  out: z.string().min(1).optional(),
  /** Records per output shard. */
  recordsPerShard: z.number().int().positive().default(1_000_000),
  /** Quarantine JSONL path. Default `<out>/_quarantine.jsonl` with --out, else none (counted only). */
  quarantine: z.string().min(1).optional(),
  /** Show a progress bar on a terminal. */
  progress: z.boolean().default(true),
  /** Replace the shards of an earlier run in `out` (otherwise a non-empty `out` is an error). */
  overwrite: z.boolean().default(false),
  /**
   * A pretrained encoder's directory (config.json, tokenizer.json, onnx/model.onnx): `out` then gets a feature cache
   * (id, label, pooled features) instead of token ids, tokenized with the encoder's own tokenizer.
   */
  encoder: z.string().min(1).optional(),
  /** With `encoder`: device, pooling, documents per encoder run, batches in flight, ONNX Runtime threads. */
  ...encoderRunFields,
  /** With `encoder`: bytes per value on disk, `float32` (exact) or `float16` (half the disk; relative error ≤ 2⁻¹¹). */
  featureDtype: FeatureDtypeSchema.default('float32'),
});
export type PrepareOptionsInput = z.input<typeof PrepareOptionsSchema>;

/** The one JSON line `prepare` ends with. records = emitted + quarantined always holds. */
export interface PrepareReport {
  readonly graph: string;
  readonly records: number;
  readonly emitted: number;
  readonly quarantined: number;
  readonly quarantineByReason: Record<string, number>;
  readonly badFiles: number;
  readonly tokens: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
  readonly peakRssMb: number;
  readonly shards?: string[];
  /** With an encoder: the feature size, the dtype on disk and the bytes written per record (all columns, footers included). */
  readonly features?: { readonly dim: number; readonly dtype: string; readonly bytesPerRecord: number };
}

/** Runs read → validate → shuffle → tokenize and, with `out`, writes tokenized shards in the shuffled order. */
export async function runPrepare(input: PrepareOptionsInput, logger?: Logger): Promise<PrepareReport> {
  const opts = parseConfig(PrepareOptionsSchema, input, 'prepare');
  // before anything is opened or an old output removed
  if (opts.encoder) {
    checkOwnTokenizer(opts.encoder, opts.tokenizer);
    checkPretrainedLength(opts.encoder, opts.maxLength);
  }
  if (opts.out) await prepareOutDir(opts.out, opts.overwrite);
  const quarantinePath = opts.quarantine ?? (opts.out ? `${opts.out}/_quarantine.jsonl` : undefined);
  const ctx = new RunContext({ seed: opts.seed, quarantinePath, ...(logger ? { logger } : {}) });
  let encoder: FeatureEncoder | undefined;
  if (opts.encoder) {
    encoder = await openFeatureEncoder({ model: opts.encoder, device: opts.encoderDevice, pooling: opts.pooling, threads: opts.encoderThreads });
    ctx.defer(() => (encoder as FeatureEncoder).close());
  }
  const data = await buildDataGraph(ctx, encoder ? { ...opts, tokenizer: encoder.info.dir } : opts, encoder
    ? { encoder, encode: { batchSize: opts.encoderBatchSize, prefetch: opts.encoderPrefetch } }
    : {});
  const t0 = process.hrtime.bigint();
  const stop = opts.progress
    ? startProgress(data.totalBytes, () => ({ records: ctx.counters.get('read.records'), bytes: ctx.counters.get('read.bytes') }))
    : () => {};
  let emitted = 0;
  let tokens = 0;
  let shards: string[] | undefined;
  let written = 0;
  try {
    const meta = encoder && {
      dim: encoder.dim, dtype: opts.featureDtype, pooling: encoder.pooling, encoderModel: encoder.info.dir,
      modelType: encoder.info.modelType, maxLength: opts.maxLength,
    };
    const writer = !opts.out ? undefined : meta
      ? new FeatureShardWriter({ dir: opts.out, recordsPerShard: opts.recordsPerShard, meta })
      : new TokenizedShardWriter({ dir: opts.out, recordsPerShard: opts.recordsPerShard });
    const sink: Sink<TokenizedDoc, void> = named('write-shards', async (s: Stream<TokenizedDoc>) => {
      try {
        for (let r = await pullOne(s); !r.done; r = await pullOne(s)) {
          emitted++;
          tokens += r.value.ids.length;
          // awaiting the writer is the backpressure: nothing is pulled while a row group is written
          if (writer) await writer.write(r.value);
        }
        if (writer) {
          const summary = await writer.close();
          shards = summary.shards;
          written = summary.bytes;
        }
      } catch (e) {
        await writer?.abort();
        throw e;
      }
    });
    await data.graph.run(sink);
  } finally {
    stop();
    await ctx.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = ctx.counters.get('read.bytes');
  const records = ctx.counters.get('read.records');
  const report: PrepareReport = {
    graph: data.graph.describe() + (opts.out ? ' → write-shards' : ''),
    records,
    emitted,
    quarantined: ctx.quarantine.count(),
    quarantineByReason: ctx.quarantine.counts(),
    badFiles: ctx.counters.get('read.bad_files'),
    tokens,
    bytes,
    seconds: round(seconds, 3),
    recordsPerSec: Math.round(records / Math.max(seconds, 1e-9)),
    mbPerSec: round(bytes / 1e6 / Math.max(seconds, 1e-9), 2),
    peakRssMb: peakRssMb(),
    ...(shards ? { shards } : {}),
    ...(encoder ? { features: { dim: encoder.dim, dtype: opts.featureDtype, bytesPerRecord: round(written / Math.max(emitted, 1), 1) } } : {}),
  };
  if (report.records !== report.emitted + report.quarantined) {
    // an accounting hole is a bug, never a user error: say so loudly
    throw new Error(`prepare: accounting mismatch: read ${report.records} != emitted ${report.emitted} + quarantined ${report.quarantined}`);
  }
  return report;
}

/**
 * Shards left by an earlier run would be read back with this run's (a replay would mix both): refuse a directory that
 * holds some unless `overwrite`, which deletes them and the old quarantine file first.
 */
async function prepareOutDir(out: string, overwrite: boolean): Promise<void> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    return;
  }
  const old = names.filter((n) => /^shard-\d+\.parquet$/.test(n) || n === '_quarantine.jsonl');
  if (old.length === 0) return;
  if (!overwrite) {
    throw new ConfigError('out', `${out} already holds ${old.length} file(s) of an earlier run (e.g. ${old[0]}); pass --overwrite to replace them, or choose another --out`);
  }
  await Promise.all(old.map((n) => rm(join(out, n), { force: true })));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
