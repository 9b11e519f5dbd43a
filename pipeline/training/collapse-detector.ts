/** When to call a model collapsed. */
export interface CollapseOptions {
  /** Margin α of the hardest loss. */
  readonly margin: number;
  /** Hardest loss within this of α counts as collapsed. Default 0.005 (distance units). */
  readonly epsilon?: number;
  /** Spread (mean pairwise distance) below this counts as collapsed. Default 0.02 (distance units). */
  readonly minSpread?: number;
  /** Consecutive collapsed steps before the detector fires. Default 100. */
  readonly window?: number;
}

/** The fixes a collapse warning names. */
export const COLLAPSE_ADVICE =
  'the model is collapsing to one point (hardest loss stuck at the margin α, embeddings not spread); likely fixes: ' +
  'mine semi-hard triplets first (--curriculum with semi-hard, or the default curriculum), lower the learning rate (--lr), ' +
  'use larger batches (--classes / --per-class)';

/**
 * Watches the hardest (batch-hard) loss and the spread step by step: a collapsed model has every distance 0, so its
 * batch-hard loss is exactly α and its spread 0. Fires once the condition has held for `window` consecutive steps.
 */
export class CollapseDetector {
  private run = 0;
  private firedAt: number | undefined;
  private readonly epsilon: number;
  private readonly minSpread: number;
  private readonly window: number;

  constructor(private readonly opts: CollapseOptions) {
    this.epsilon = opts.epsilon ?? 0.005;
    this.minSpread = opts.minSpread ?? 0.02;
    this.window = opts.window ?? 100;
  }

  /** Whether this step looks collapsed (before the window). */
  looksCollapsed(hardestLoss: number, spread: number): boolean {
    return Math.abs(hardestLoss - this.opts.margin) < this.epsilon || spread < this.minSpread;
  }

  /** Feeds one step; returns true on the step the detector fires (once). */
  observe(step: number, hardestLoss: number, spread: number): boolean {
    this.run = this.looksCollapsed(hardestLoss, spread) ? this.run + 1 : 0;
    if (this.firedAt === undefined && this.run >= this.window) {
      this.firedAt = step;
      return true;
    }
    return false;
  }

  /** The step it fired at, if it did. */
  get fired(): number | undefined {
    return this.firedAt;
  }

  /** State for checkpoints. */
  state(): { run: number; firedAt: number | null } {
    return { run: this.run, firedAt: this.firedAt ?? null };
  }

  /** Restores `state()`. */
  restore(s: { run: number; firedAt: number | null }): void {
    this.run = s.run;
    this.firedAt = s.firedAt ?? undefined;
  }
}
