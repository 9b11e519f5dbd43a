import type { TrainConfig } from '../../schemas/train-config.js';
import { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import type { EmbeddingModelOptionsInput } from '../../stages/metric/model/embedding-model-options.js';
import { Trainer } from '../../stages/train-step.js';
import type { RunContext } from '../context.js';

/**
 * Default ratio of the token table's learning rate to `lr`. The table starts at N(0, 1) (as torch's nn.Embedding)
 * and Adam moves a weight by about its learning rate per step, so at `lr` the rows hardly leave their random start
 * in a few thousand steps; ×30 took the default curriculum on banking77 (3,000 steps) from MAP@R 0.639 to 0.747
 * (docs/experiment.md).
 */
export const TOKEN_LR_FACTOR = 30;

/** The token table's learning rate: `tokenLr`, or `lr` × TOKEN_LR_FACTOR. */
export function tokenLearningRate(cfg: Pick<TrainConfig, 'lr' | 'tokenLr'>): number {
  return cfg.tokenLr ?? cfg.lr * TOKEN_LR_FACTOR;
}

/** The model a config describes, initialised from its seed, and its trainer (the random miner draws from `ctx`). */
export function buildModelAndTrainer(
  cfg: TrainConfig, vocabSize: number, ctx: RunContext, extra: Partial<EmbeddingModelOptionsInput> = {},
): { model: EmbeddingModel; trainer: Trainer } {
  const model = EmbeddingModel.create({
    encoder: cfg.encoder, vocabSize, embeddingDim: cfg.embeddingDim, head: cfg.head,
    normalize: cfg.normalize, outputActivation: cfg.outputActivation, maxLength: cfg.maxLength, layers: cfg.layers, heads: cfg.heads,
    ...extra,
  }, cfg.seed);
  const trainer = new Trainer(model, {
    learningRate: cfg.lr, tokenLearningRate: tokenLearningRate(cfg), weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm, margin: cfg.margin,
  }, () => ctx.rng('miner:random').next());
  return { model, trainer };
}
