import { z } from 'zod';

/** A record as a source read it, before validation: where it came from and its parsed value. */
export const RawRecordSchema = z.object({
  /** Shard path as given or found by a glob. */
  file: z.string(),
  /** 0-based row within the file (line for JSONL, row for parquet). */
  row: z.number().int().nonnegative(),
  /** Byte offset of the line in the (decompressed) JSONL file, for resuming; absent for parquet. */
  offset: z.number().int().nonnegative().optional(),
  /** The parsed record (an object), or the raw line when it did not parse. */
  value: z.unknown(),
  /** Bytes of input this record accounts for (for progress). */
  bytes: z.number().nonnegative(),
  /** Why the source could not parse it, when it could not (quarantined by validate-docs). */
  parseError: z.enum(['bad_json', 'invalid_utf8']).optional(),
});
export type RawRecord = z.infer<typeof RawRecordSchema>;
