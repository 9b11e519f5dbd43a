import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Batch } from '../schemas/batch.js';
import { DataOptionsSchema } from '../schemas/data-options.js';
import { balanceBatches } from '../stages/balance-batches.js';
import { parseConfig } from './config.js';
import { RunContext } from './context.js';
import { buildChunkedDataGraph } from './data-graph.js';
import type { Logger } from './logger.js';
import { peakRssMb, startProgress } from './progress.js';
import { balanceOptionFields, balancerOptions } from './registry.js';
import { named, pullOne, type Sink, type Stream } from './stage.js';

/**
 * `tripletflow batches`: the data options plus the class-balanced batcher's options (those of `balance-batches`;
 * records left at the end are quarantined, or reported as carried with `atEpochEnd: 'carry'`) and where batches go.
 */
export const BatchesOptionsSchema = DataOptionsSchema.extend({
  ...balanceOptionFields,
  /** JSONL file for the batch lines; without it they go to `write` (stdout) before the summary. */
  out: z.string().min(1).optional(),
  /** Quarantine JSONL path; without it quarantined records are only counted. */
  quarantine: z.string().min(1).optional(),
  /** Show a progress bar on a terminal. */
  progress: z.boolean().default(true),
});
export type BatchesOptionsInput = z.input<typeof BatchesOptionsSchema>;

/** One line per batch: its step, schedule phase (index and `PxK` shape), record ids and labels. */
export interface BatchLine {
  readonly step: number;
  readonly phase: number;
  readonly shape: string;
  readonly ids: readonly string[];
  readonly labels: readonly string[];
}

/** The summary `batches` ends with. records = batched + carried + quarantined always holds. */
export interface BatchesReport {
  readonly graph: string;
  readonly batches: number;
  readonly fullBatches: number;
  readonly shortBatches: number;
  /** Records read from the input. */
  readonly records: number;
  /** Records placed in batches (first use). */
  readonly batched: number;
  readonly carried: number;
  readonly reused: number;
  /** Records quarantined by any stage (validation, tokenizer, balancer). */
  readonly quarantined: number;
  readonly quarantineByReason: Record<string, number>;
  readonly maxPoolRecords: number;
  readonly classesSeen: number;
  readonly classesNeverServed: number;
  readonly waitRecordsMax: number;
  readonly peakRssMb: number;
  readonly seconds: number;
}

/**
 * Runs read → validate → shuffle → tokenize → balance-batches and writes one JSON line per batch to `out` (or
 * through `write`). Same options, corpus and seed → the same lines.
 */
export async function runBatches(
  input: BatchesOptionsInput,
  write: (line: string) => void | Promise<void> = (l) => { process.stdout.write(l); },
  logger?: Logger,
): Promise<BatchesReport> {
  const opts = parseConfig(BatchesOptionsSchema, input, 'batches');
  const ctx = new RunContext({ seed: opts.seed, quarantinePath: opts.quarantine, ...(logger ? { logger } : {}) });
  const balance = balanceBatches(ctx, balancerOptions(opts));
  // records reach the balancer in the tokenizer's chunks: one stream step per chunk, not per record
  const data = await buildChunkedDataGraph(ctx, opts);
  const graph = data.graph.through(balance);
  const t0 = process.hrtime.bigint();
  const stop = opts.progress
    ? startProgress(data.totalBytes, () => ({
      records: ctx.counters.get('read.records'),
      bytes: ctx.counters.get('read.bytes'),
      detail: `| ${ctx.counters.get('balance-batches.batches')} batches`,
    }))
    : () => {};
  let out: WriteStream | undefined;
  try {
    if (opts.out) {
      mkdirSync(dirname(opts.out), { recursive: true });
      out = createWriteStream(opts.out);
    }
    const file = out;
    const emit = file
      ? (line: string) => (file.write(line) ? undefined : new Promise<void>((r) => file.once('drain', () => r())))
      : write;
    const sink: Sink<Batch, void> = named('write-batches', async (s: Stream<Batch>) => {
      for (let r = await pullOne(s); !r.done; r = await pullOne(s)) {
        const b = r.value;
        const line: BatchLine = { step: b.step, phase: b.phase.index, shape: b.phase.name, ids: b.ids, labels: b.labels };
        // awaiting a full file buffer is the backpressure: no batch is pulled while it drains
        await emit(`${JSON.stringify(line)}\n`);
      }
    });
    await graph.run(sink);
  } finally {
    stop();
    if (out) {
      const o = out;
      await new Promise<void>((resolve, reject) => { o.once('error', reject); o.end(() => resolve()); });
    }
    await ctx.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const st = balance.balancer.stats();
  const report: BatchesReport = {
    graph: `${graph.describe()} → write-batches`,
    batches: st.batches,
    fullBatches: st.fullBatches,
    shortBatches: st.shortBatches,
    records: ctx.counters.get('read.records'),
    batched: st.recordsBatched,
    carried: st.carried,
    reused: st.reused,
    quarantined: ctx.quarantine.count(),
    quarantineByReason: ctx.quarantine.counts(),
    maxPoolRecords: st.maxPoolRecords,
    classesSeen: st.classesSeen,
    classesNeverServed: st.classesNeverServed,
    waitRecordsMax: st.waitRecordsMax,
    peakRssMb: peakRssMb(),
    seconds: Math.round(seconds * 1000) / 1000,
  };
  if (report.records !== report.batched + report.carried + report.quarantined) {
    // an accounting hole is a bug, never a user error: say so loudly
    throw new Error(`batches: accounting mismatch: read ${report.records} != batched ${report.batched} + carried ${report.carried} + quarantined ${report.quarantined}`);
  }
  return report;
}
