import { z } from 'zod';

/** The numeric per-step fields of a metrics.jsonl line that the report charts or summarises. */
export const METRIC_FIELDS = [
  'step', 'epoch', 'phase', 'batchSize', 'loss', 'hardestLoss', 'activeFraction', 'meanPos', 'meanNeg', 'spread',
  'numTriplets', 'gradNorm', 'recordsSeen', 'ms',
] as const;
/** Name of one numeric per-step field. */
export type MetricField = (typeof METRIC_FIELDS)[number];

/**
 * metrics.jsonl as columns, one entry per logged line in file order (a 1M-step run stays ~100 MB, not 1M objects).
 * A field a line lacks, or holds as null or a non-number, is NaN there.
 */
export type MetricsColumns = { readonly [K in MetricField]: Float64Array } & {
  /** Logged lines. */
  readonly length: number;
  /** 1 where the line's `collapse` flag (collapse condition holding at that step) is true. */
  readonly collapse: Uint8Array;
  /** Index into `RunHistory.miners` of each line's miner; -1 when the line names none. */
  readonly minerIndex: Int32Array;
};

/** Per-stage throughput columns from the lines' optional `stages` field, aligned with `MetricsColumns` (NaN where a line lacks the stage). */
export interface StageColumns {
  /** Records the stage has emitted so far. */
  readonly records: Float64Array;
  /** The stage's throughput, records per second. */
  readonly recordsPerSec: Float64Array;
  /** Cumulative ms the stage waited on its consumer (backpressure). */
  readonly waitConsumerMs: Float64Array;
  /** Cumulative ms the stage waited on its producer. */
  readonly waitProducerMs: Float64Array;
  /** Cumulative ms of the stage's own work (optional in the lines; NaN where absent). */
  readonly busyMs: Float64Array;
}

/** A run of consecutive lines with one curriculum phase and miner: `lines [startIndex, endIndex)`. */
export interface PhaseSpan {
  readonly phase: number;
  readonly miner: string;
  /** Batch size of the span's first line (P×K of the phase). */
  readonly batchSize: number;
  readonly fromStep: number;
  readonly toStep: number;
  readonly startIndex: number;
  readonly endIndex: number;
}

/** P@1, R-precision and MAP@R of one evaluation. */
export const RetrievalScoresSchema = z.looseObject({
  precision_at_1: z.number(),
  r_precision: z.number(),
  mean_average_precision_at_r: z.number(),
});
export type RetrievalScores = z.infer<typeof RetrievalScoresSchema>;

/** eval.json as `runTrain` writes it: the final scores at the top level, the untrained baseline, and the history. */
export const EvalFileSchema = z.looseObject({
  precision_at_1: z.number().optional(),
  r_precision: z.number().optional(),
  mean_average_precision_at_r: z.number().optional(),
  untrained: RetrievalScoresSchema.nullable().optional(),
  history: z.array(RetrievalScoresSchema.extend({ step: z.number() })).optional(),
});
export type EvalFile = z.infer<typeof EvalFileSchema>;

/** run.json as `runTrain` writes it; every field optional so that older and newer runs still report. */
export const RunFileSchema = z.looseObject({
  status: z.string().optional(),
  steps: z.number().optional(),
  /** Steps the run is configured for (a resumable run stops short of it). */
  stepsTotal: z.number().optional(),
  seconds: z.number().optional(),
  stepsPerSec: z.number().optional(),
  backend: z.union([z.string(), z.looseObject({ backend: z.string() })]).optional(),
  curriculum: z.string().optional(),
  collapse: z.looseObject({ fired: z.boolean(), atStep: z.number().nullable() }).optional(),
  untrained: RetrievalScoresSchema.nullable().optional(),
  final: RetrievalScoresSchema.nullable().optional(),
  records: z.record(z.string(), z.number()).optional(),
  quarantineByReason: z.record(z.string(), z.number()).optional(),
  peakRssMb: z.number().optional(),
});
export type RunFile = z.infer<typeof RunFileSchema>;

/** One evaluation in eval.json's history. */
export interface EvalPoint extends RetrievalScores {
  readonly step: number;
}

/** Everything the report shows about a run directory, read by `readRunHistory`. */
export interface RunHistory {
  readonly dir: string;
  readonly metrics: MetricsColumns;
  /** Distinct miner names, in order of first appearance. */
  readonly miners: readonly string[];
  /** Consecutive (phase, miner) spans; a new span starts at each phase switch. */
  readonly phases: readonly PhaseSpan[];
  /** Per-stage columns by stage name; empty when no line has `stages`. */
  readonly stages: ReadonlyMap<string, StageColumns>;
  /** eval.json's final scores, untrained baseline and history; null when eval.json is missing or cut off. */
  readonly eval: { readonly final: RetrievalScores | null; readonly untrained: RetrievalScores | null; readonly history: readonly EvalPoint[] } | null;
  /** run.json; null when the run has not finished (or the file is cut off). */
  readonly run: RunFile | null;
  /** Quarantined records by `<stage>.<reason>`: from run.json, else counted in quarantine.jsonl; null when neither exists. */
  readonly quarantineByReason: Readonly<Record<string, number>> | null;
  /** Where `quarantineByReason` came from. */
  readonly quarantineSource: 'run.json' | 'quarantine.jsonl' | null;
  /** Human-readable notes on missing or partial files, shown in the report. */
  readonly notes: readonly string[];
}
