import { z } from 'zod';

/** A document after tokenization: token ids (with [CLS]/[SEP]) truncated to the max length. */
export const TokenizedDocSchema = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  /** Token ids; typed array so batches stay compact and cross worker threads cheaply. */
  ids: z.instanceof(Int32Array),
});
export type TokenizedDoc = z.infer<typeof TokenizedDocSchema>;
