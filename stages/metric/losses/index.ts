import { marginLoss, softMarginLoss, type TripletLossFunction } from './triplet-margin-loss.js';

export { marginLoss, softMarginLoss, type MarginLossOptions, type TripletLossFunction } from './triplet-margin-loss.js';

/** Names of the built-in per-triplet losses. */
export type LossName = 'margin' | 'soft-margin';

/** The loss registered under `name`; `margin` (α, default 0.2) and `hingeGradient` apply to the margin loss only. */
export function makeLoss(name: LossName, margin = 0.2, hingeGradient = 0): TripletLossFunction {
  return name === 'soft-margin' ? softMarginLoss() : marginLoss({ margin, hingeGradient });
}
