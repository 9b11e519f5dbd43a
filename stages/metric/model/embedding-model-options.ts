import { z } from 'zod';

/** How an embedding model is built: encoder, head and output normalisation. Defaults give the recipe. */
export const EmbeddingModelOptionsSchema = z.object({
  /**
   * `bag` (token embeddings, masked mean pooling; the default), `transformer` (a small BERT-style encoder), or
   * `pretrained` (a frozen ONNX encoder outside the model: the head takes its pooled features, `embeddingDim` wide).
   */
  encoder: z.enum(['bag', 'transformer', 'pretrained']).default('bag'),
  /** `pretrained`: the encoder's directory, recorded so that `embed` and `eval` run it on text. */
  encoderModel: z.string().min(1).optional(),
  /** Vocabulary size (the tokenizer's). */
  vocabSize: z.number().int().positive().default(30522),
  /** Token embedding (and transformer hidden) size; `pretrained`: the encoder's feature size. */
  embeddingDim: z.number().int().positive().default(128),
  /** Fully connected head: sizes of each layer, ReLU between them; the last size is the embedding's. */
  head: z.array(z.number().int().positive()).min(1).default([256, 128]),
  /** Project embeddings onto the unit sphere (FaceNet). */
  normalize: z.boolean().default(true),
  /** Activation on the output: `none` (default) or `softmax` (constrains embeddings to the simplex; warned about). */
  outputActivation: z.enum(['none', 'softmax']).default('none'),
  /** Longest input in tokens (transformer positions). */
  maxLength: z.number().int().min(2).default(32),
  /** Transformer: layers, attention heads, feed-forward size (default 4 × embeddingDim), pooling (also the pretrained encoder's). */
  layers: z.number().int().positive().default(2),
  heads: z.number().int().positive().default(4),
  ffnDim: z.number().int().positive().optional(),
  pooling: z.enum(['mean', 'cls']).default('mean'),
}).refine((o) => o.encoder !== 'transformer' || o.embeddingDim % o.heads === 0, {
  message: 'embeddingDim must be divisible by heads',
  path: ['heads'],
});
export type EmbeddingModelOptions = z.infer<typeof EmbeddingModelOptionsSchema>;
export type EmbeddingModelOptionsInput = z.input<typeof EmbeddingModelOptionsSchema>;
