import { z } from 'zod';

/**
 * Triplets and triplet-loss options (issue #2). A valid triplet (a, p, n): batch indices with a != p and
 * label[a] = label[p] != label[n].
 */

/** Mined triplets: three equally long Int32Arrays of batch indices, plus the miner's counters. */
export const TripletsSchema = z
  .object({
    anchor: z.instanceof(Int32Array),
    positive: z.instanceof(Int32Array),
    negative: z.instanceof(Int32Array),
    counts: z.record(z.string(), z.number().int().min(0)),
  })
  .refine((t) => t.anchor.length === t.positive.length && t.anchor.length === t.negative.length, {
    message: 'anchor, positive and negative must have the same length',
  });
export type TripletsData = z.infer<typeof TripletsSchema>;

/** Reproduce TF-Addons / ST masked reductions: keep anchors lacking a positive/negative, TF's tie semantics. */
const tfMasked = z.boolean().default(false);

/** A miner by registry name, with its options; the margin comes from the loss options. */
export const MinerSpecSchema = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('semi-hard'),
    /** Pair without a semi-hard negative: nearest negative (`hardest`), farthest (`easiest`), or `skip`. */
    fallback: z.enum(['hardest', 'easiest', 'skip']).default('hardest'),
    /** Apply the upper bound d_an < d_ap + margin (FaceNet). `false`: TF-Addons / ST. */
    bounded: z.boolean().default(true),
    tfMasked,
  }).strict(),
  z.object({ name: z.literal('hard-negative') }).strict(),
  z.object({
    name: z.literal('batch-hard'),
    positive: z.enum(['hardest', 'easiest']).default('hardest'),
    negative: z.enum(['hardest', 'semi-hard']).default('hardest'),
    tfMasked,
  }).strict(),
  z.object({ name: z.literal('batch-all') }).strict(),
  z.object({ name: z.literal('random') }).strict(),
  z.object({
    name: z.literal('threshold'),
    /** PML TripletMarginMiner type_of_triplets. */
    type: z.enum(['all', 'hard', 'semihard', 'easy']).default('all'),
  }).strict(),
]);
export type MinerSpec = z.infer<typeof MinerSpecSchema>;
export type MinerSpecInput = z.input<typeof MinerSpecSchema>;

/** Triplet-loss options; every field has a default giving the FaceNet recipe. */
export const TripletLossOptionsSchema = z
  .object({
    /** `euclidean` (default) or `cosine` (a similarity; forces L2 normalisation). */
    distance: z.enum(['euclidean', 'cosine']).default('euclidean'),
    /** Squared Euclidean distance (default true). */
    squared: z.boolean().default(true),
    /** L2-normalise the embeddings before the distance (default true). */
    normalize: z.boolean().default(true),
    /** α, in distance units (squared units for squared Euclidean); default 0.2. */
    margin: z.number().min(0, 'margin must be >= 0').refine(Number.isFinite, 'margin must be finite').default(0.2),
    /** The miner; default semi-hard with the hardest-negative fallback. */
    miner: MinerSpecSchema.prefault({ name: 'semi-hard' }),
    /** `margin` (default) or `soft-margin`. */
    loss: z.enum(['margin', 'soft-margin']).default('margin'),
    /** Slope of the margin loss exactly at its hinge: 0 (torch.relu, PML; default), 1 (ST batch-all/-hard), 0.5 (ST semi-hard). */
    hingeGradient: z.number().min(0).max(1).default(0),
    /** `avg-non-zero` (default), `mean` or `sum`. */
    reducer: z.enum(['mean', 'avg-non-zero', 'sum']).default('avg-non-zero'),
    /** A batch with nothing to average gives 0 (`zero`, default) or NaN (`nan`, ST semi-hard). */
    emptyBatch: z.enum(['zero', 'nan']).default('zero'),
  })
  .strict();
export type TripletLossOptions = z.infer<typeof TripletLossOptionsSchema>;
export type TripletLossOptionsInput = z.input<typeof TripletLossOptionsSchema>;
