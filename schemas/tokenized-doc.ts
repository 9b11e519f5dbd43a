import { z } from 'zod';

/** A document after tokenization: token ids (with [CLS]/[SEP]) truncated to the max length, and maybe its encoder features. */
export const TokenizedDocSchema = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  /** Token ids; typed array so batches stay compact and cross worker threads cheaply. */
  ids: z.instanceof(Int32Array),
  /**
   * Pooled features of a frozen pretrained encoder (`encode-features`, or a feature cache from `prepare --encoder`);
   * when present, a `pretrained` model's head trains on them and `ids` may be empty.
   */
  features: z.instanceof(Float32Array).optional(),
});
// ids may view a shared or transferred buffer (worker threads), hence the wider Int32Array type
export type TokenizedDoc = Omit<z.infer<typeof TokenizedDocSchema>, 'ids' | 'features'> & { ids: Int32Array; features?: Float32Array };
