import { z } from 'zod';

/** A document after tokenization: token ids (with [CLS]/[SEP]) truncated to the max length. */
export const TokenizedDocSchema = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  /** Token ids; typed array so batches stay compact and cross worker threads cheaply. */
  ids: z.instanceof(Int32Array),
});
// ids may view a shared or transferred buffer (worker threads), hence the wider Int32Array type
export type TokenizedDoc = Omit<z.infer<typeof TokenizedDocSchema>, 'ids'> & { ids: Int32Array };
