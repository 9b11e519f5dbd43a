import { z } from 'zod';

/** How features are stored on disk: float32 (exact) or float16 (half the bytes; relative error ≤ 2⁻¹¹). */
export const FeatureDtypeSchema = z.enum(['float32', 'float16']);
export type FeatureDtype = z.infer<typeof FeatureDtypeSchema>;

/**
 * What a feature cache shard holds, written as JSON in its footer (key `tripletflow.features`) by
 * `prepare --encoder DIR --out DIR`, and checked when `train` reads it back.
 */
export const FeatureCacheMetaSchema = z.object({
  format: z.literal('tripletflow-features').default('tripletflow-features'),
  version: z.literal(1).default(1),
  /** Values per vector (the encoder's hidden size). */
  dim: z.number().int().positive(),
  dtype: FeatureDtypeSchema,
  /** `mean` or `cls`: how the token states were pooled. */
  pooling: z.enum(['mean', 'cls']),
  /** The encoder's directory (absolute, as it was when the cache was written). */
  encoderModel: z.string().min(1),
  /** config.json model_type of the encoder (e.g. `bert`). */
  modelType: z.string().default('unknown'),
  /** Token budget the texts were cut to before encoding, special tokens included. */
  maxLength: z.number().int().positive(),
});
export type FeatureCacheMeta = z.infer<typeof FeatureCacheMetaSchema>;
export type FeatureCacheMetaInput = z.input<typeof FeatureCacheMetaSchema>;
