import { z } from 'zod';
import { BatchPhaseSchema } from './batch-schedule.js';
import { TokenizedDocSchema, type TokenizedDoc } from './tokenized-doc.js';

/** Per-batch figures reported by `balance-batches`. */
export const BatchStatsSchema = z.object({
  /** Distinct classes in the batch (P for a full batch, fewer for a short one). */
  classes: z.number().int().nonnegative(),
  /** Records of each class (K of the batch's phase). */
  samplesPerClass: z.number().int().nonnegative(),
  /** True when the batch has the phase's full P classes. */
  full: z.boolean(),
  /** Records in this batch that were already used earlier in the epoch (reuse policy only). */
  reused: z.number().int().nonnegative(),
  /** Records still waiting in the pools right after this batch was taken out. */
  poolRecords: z.number().int().nonnegative(),
  /** Longest wait of a record in this batch, in records read between its arrival and this batch. */
  waitRecordsMax: z.number().int().nonnegative(),
});
export type BatchStats = z.infer<typeof BatchStatsSchema>;

/**
 * A class-balanced batch: `classes` groups of `samplesPerClass` records, grouped by class
 * (`docs[c*K .. c*K+K-1]` share a label). `labels[i]`, `ids[i]` and `classIndex[i]` describe `docs[i]`.
 */
export const BatchSchema = z.object({
  /** 0-based batch number over the whole run (it keeps counting across epochs; the schedule is keyed on it). */
  step: z.number().int().nonnegative(),
  /** 0-based epoch the batch was emitted in. */
  epoch: z.number().int().nonnegative(),
  /** The schedule phase in force at `step`. */
  phase: BatchPhaseSchema,
  docs: z.array(TokenizedDocSchema),
  labels: z.array(z.string().min(1)),
  ids: z.array(z.string().min(1)),
  /** Class of each record as a 0-based index into the batch's classes (what label masks are built from). */
  classIndex: z.instanceof(Int32Array),
  stats: BatchStatsSchema,
});
// docs keep TokenizedDoc's wider Int32Array (a record may view a shared or transferred buffer)
export type Batch = Omit<z.infer<typeof BatchSchema>, 'docs'> & { docs: TokenizedDoc[] };
