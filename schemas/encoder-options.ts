import { z } from 'zod';

/** How a pretrained encoder runs (`train --encoder pretrained` and `prepare --encoder`): the same fields and defaults in both. */
export const encoderRunFields = {
  /** `cpu` or `cuda` (needs onnxruntime-node's CUDA provider; never falls back to the CPU). */
  encoderDevice: z.enum(['cpu', 'cuda']).default('cpu'),
  /** `mean` over the attention mask, or `cls` (the `transformer` encoder pools this way too). */
  pooling: z.enum(['mean', 'cls']).default('mean'),
  /** Documents per encoder run. */
  encoderBatchSize: z.number().int().positive().default(64),
  /** Encoder batches in flight ahead of the consumer (the bound on how far it runs ahead). */
  encoderPrefetch: z.number().int().positive().default(2),
  /** ONNX Runtime intra-op threads (0: every core). */
  encoderThreads: z.number().int().min(0).default(1),
};
