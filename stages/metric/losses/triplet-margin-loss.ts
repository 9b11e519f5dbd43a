/** A per-triplet loss as a function of the gap t = d_an - d_ap (how much farther the negative is). */
export interface TripletLossFunction {
  /** Registry name: `margin` or `soft-margin`. */
  readonly name: string;
  /** The loss of one triplet with gap `t`; always >= 0. */
  value(t: number): number;
  /** d loss / d t; 0 where the hinge is flat (exactly at the hinge: see MarginLossOptions.hingeGradient). */
  derivative(t: number): number;
}

/** Options of the margin loss. */
export interface MarginLossOptions {
  /** α, in distance units (squared units for squared Euclidean). Default 0.2 (FaceNet). */
  readonly margin?: number;
  /**
   * Slope used exactly at the hinge (d_ap - d_an + α = 0), where relu has no derivative: 0 (torch.relu, PML;
   * default), 1 (ST BatchAll/BatchHard's `tl[tl < 0] = 0`), 0.5 (torch.max(x, 0), ST BatchSemiHard). Only exact ties
   * tell them apart.
   */
  readonly hingeGradient?: number;
}

/**
 * Margin (hinge) triplet loss relu(d_ap - d_an + α) = relu(α - t) (Schroff et al. 2015, eq. 1; PML
 * TripletMarginLoss; ST BatchAll/BatchHard/BatchSemiHardTripletLoss).
 */
export function marginLoss({ margin = 0.2, hingeGradient = 0 }: MarginLossOptions = {}): TripletLossFunction {
  return {
    name: 'margin',
    value: (t) => {
      // written as (d_ap - d_an) + α, in the peers' operation order, so results agree to the last bit
      const v = -t + margin;
      return v > 0 ? v : 0;
    },
    derivative: (t) => {
      const v = -t + margin;
      return v > 0 ? -1 : v === 0 ? -hingeGradient : 0;
    },
  };
}

/**
 * Soft-margin triplet loss log(1 + exp(d_ap - d_an)) = softplus(-t), no margin (Hermans et al. 2017 §2; ST
 * BatchHardSoftMarginTripletLoss). Computed without overflow for large gaps.
 */
export function softMarginLoss(): TripletLossFunction {
  return {
    name: 'soft-margin',
    value: (t) => {
      const x = -t;
      return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    },
    // d/dt softplus(-t) = -sigmoid(-t)
    derivative: (t) => (t >= 0 ? -Math.exp(-t) / (1 + Math.exp(-t)) : -1 / (1 + Math.exp(t))),
  };
}
