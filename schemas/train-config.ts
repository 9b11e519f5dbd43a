import { z } from 'zod';
import { DataOptionsSchema } from './data-options.js';
import { encoderRunFields } from './encoder-options.js';

/** `tripletflow train`: everything a run needs; every field has a default that gives the recipe. */
export const TrainConfigSchema = DataOptionsSchema.extend({
  /** Held-out evaluation file(s); default: the bundled banking77 test split when training on the bundled corpus. */
  eval: z.array(z.string().min(1)).optional(),
  /** Most evaluation records held in memory. */
  evalLimit: z.number().int().positive().default(10_000),
  /** Evaluate every N steps (0: only before and after training). */
  evalEvery: z.number().int().min(0).default(0),
  /**
   * Optimisation steps. Default 600: `tripletflow train` with no arguments is a short demo (about a minute on two
   * wasm threads); the documented experiment (docs/experiment.md) passes --steps 3000.
   */
  steps: z.number().int().positive().default(600),
  /** Output directory. */
  out: z.string().min(1).default('runs/latest'),
  /** P and K of the first phase (the default curriculum grows P). */
  classes: z.number().int().min(2).default(16),
  perClass: z.number().int().min(2).default(4),
  /** One miner for the whole run (`batch-hard`, `semi-hard`, `semi-hard/easiest`, ...); exclusive with curriculum. */
  miner: z.string().optional(),
  /** `step:miner:PxK,...[,auto]`; default: semi-hard → hard-negative → batch-hard with growing batches. */
  curriculum: z.string().optional(),
  margin: z.number().positive().default(0.2),
  /** Learning rate (Adam). */
  lr: z.number().positive('the learning rate must be > 0').default(1e-3),
  /** Adam learning rate of the token table; default: `lr` × TOKEN_LR_FACTOR. */
  tokenLr: z.number().positive('the token learning rate must be > 0').optional(),
  weightDecay: z.number().min(0).default(0),
  clipNorm: z.number().positive().optional(),
  maxLength: z.number().int().min(3).default(32),
  /** `bag`, `transformer`, or `pretrained` (a frozen ONNX encoder from `encoderModel`, with a trained head). */
  encoder: z.enum(['bag', 'transformer', 'pretrained']).default('bag'),
  /** `pretrained`: local Hugging Face model directory (config.json, tokenizer.json, onnx/model.onnx). */
  encoderModel: z.string().min(1).optional(),
  /** `pretrained`: device, pooling (also `transformer`'s), batch size, prefetch, threads. */
  ...encoderRunFields,
  embeddingDim: z.number().int().positive().default(128),
  head: z.array(z.number().int().positive()).min(1).default([256, 128]),
  normalize: z.boolean().default(true),
  outputActivation: z.enum(['none', 'softmax']).default('none'),
  layers: z.number().int().positive().default(2),
  heads: z.number().int().positive().default(4),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Write a metrics line every N steps. */
  logEvery: z.number().int().positive().default(10),
  /** Collapse detector: window in steps, ε on the hardest loss, minimum spread. */
  collapseWindow: z.number().int().positive().default(100),
  collapseEpsilon: z.number().positive().default(0.005),
  collapseMinSpread: z.number().positive().default(0.02),
  stopOnCollapse: z.boolean().default(false),
  /** Exit 2 when quarantined / read exceeds this. */
  maxRejectRate: z.number().min(0).max(1).default(1),
  /** Allow an eval set whose labels never appear in training (held-out classes). */
  evalUnseenLabels: z.boolean().default(false),
  /** Class pools: total records held (default 16 × the largest batch). */
  poolCapacity: z.number().int().positive().optional(),
  /** `per-record` (default): one quarantine entry per `pool_overflow` record; `per-class`: one per class per 1,000 such records and per epoch. */
  overflowEntries: z.enum(['per-record', 'per-class']).default('per-record'),
  progress: z.boolean().default(true),
  /** Write a checkpoint every N steps (0: only when the run stops). Default 500 steps. */
  checkpointEvery: z.number().int().min(0).default(500),
  /** Checkpoints kept (the newest). Default 3. */
  keepCheckpoints: z.number().int().min(1).default(3),
  /** Stop (resumable) after this long: "6h", "90m", "1h30m" or seconds. */
  maxDuration: z.string().min(1).optional(),
  /** Stop (resumable) when the local clock reaches HH:MM. */
  until: z.string().min(1).optional(),
  /** Refresh report.html and its charts at each checkpoint and at the end (on a worker thread). Default true. */
  report: z.boolean().default(true),
  /** Record the batch stream (per step: ids, labels, token ids, phase) as parquet shards in this directory. */
  record: z.string().min(1).optional(),
}).refine((c) => !(c.miner && c.curriculum), { message: 'give either --miner or --curriculum, not both', path: ['miner'] });
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
