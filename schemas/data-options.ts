import { z } from 'zod';

/** The data half of every command: read → validate → shuffle → tokenize. Defaults are given with each field. */
export const DataOptionsSchema = z.object({
  /** Files, directories or globs of JSONL (.jsonl, .jsonl.gz) or parquet shards. */
  inputs: z.array(z.string().min(1)).min(1, 'give at least one --input'),
  /** Shard format; `auto` picks by extension. */
  format: z.enum(['auto', 'jsonl', 'parquet']).default('auto'),
  textField: z.string().min(1).default('text'),
  labelField: z.string().min(1).default('label'),
  idField: z.string().min(1).default('id'),
  /** Records held by the shuffle window (1 disables it). */
  shuffleWindow: z.number().int().min(1, 'shuffle window must be >= 1; use 1 to disable shuffling').default(10_000),
  /** Shards read at once, interleaved block by block. */
  interleave: z.number().int().min(1).default(4),
  /** Shuffle the order of shards. */
  shuffleShards: z.boolean().default(true),
  /** The run's single seed. */
  seed: z.number().int().min(0).default(0),
  /** Epoch number (each epoch has its own shuffle). */
  epoch: z.number().int().min(0).default(0),
  /** Tokenizer directory holding tokenizer.json; default: the bundled bert-base-uncased. */
  tokenizer: z.string().min(1).optional(),
  /** Token budget per document, [CLS] and [SEP] included. */
  maxLength: z.number().int().min(2, 'max length must leave room for [CLS] and [SEP] (>= 2)').default(128),
  /** Tokenizer worker threads (0 = on the main thread). */
  workers: z.number().int().min(0).default(1),
  /** Stop after this many records. */
  limit: z.number().int().positive().optional(),
  /** Count and skip missing, empty or corrupt files instead of stopping. */
  skipBadFiles: z.boolean().default(false),
});
export type DataOptions = z.infer<typeof DataOptionsSchema>;
export type DataOptionsInput = z.input<typeof DataOptionsSchema>;
