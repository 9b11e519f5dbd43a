import { MinerSpecSchema, type MinerSpec } from '../../../schemas/triplets.js';
import { batchAllMiner } from './batch-all-miner.js';
import { batchHardMiner } from './batch-hard-miner.js';
import { hardNegativeMiner } from './hard-negative-miner.js';
import type { Miner } from './miner.js';
import { randomMiner } from './random-miner.js';
import { semiHardMiner } from './semi-hard-miner.js';
import { thresholdMiner } from './threshold-miner.js';

export { batchAllMiner } from './batch-all-miner.js';
export { batchHardMiner, type BatchHardMinerOptions } from './batch-hard-miner.js';
export { hardNegativeMiner } from './hard-negative-miner.js';
export { randomMiner, type RandomMinerOptions } from './random-miner.js';
export { semiHardMiner, type SemiHardFallback, type SemiHardMinerOptions } from './semi-hard-miner.js';
export { thresholdMiner, type ThresholdMinerOptions, type ThresholdType } from './threshold-miner.js';
export type { Miner } from './miner.js';

/** What miners may need besides their options. */
export interface MinerDeps {
  /** α shared with the loss (semi-hard bound, threshold miners). Distance units. Default 0.2. */
  readonly margin?: number;
  /** Uniform [0, 1) generator; required by `random`. */
  readonly rng?: () => number;
}

/** Miner registry: name -> options schema (MinerSpecSchema, by `name`) and factory. */
export function makeMiner(spec: MinerSpec, { margin = 0.2, rng }: MinerDeps = {}): Miner {
  switch (spec.name) {
    case 'semi-hard':
      return semiHardMiner({ margin, fallback: spec.fallback, bounded: spec.bounded, tfMasked: spec.tfMasked });
    case 'hard-negative':
      return hardNegativeMiner();
    case 'batch-hard':
      return batchHardMiner({ positive: spec.positive, negative: spec.negative, tfMasked: spec.tfMasked });
    case 'batch-all':
      return batchAllMiner();
    case 'random':
      if (!rng) throw new Error('miner random: needs an rng (() => number in [0, 1)); pass deps.rng, e.g. ctx.rng(...).next');
      return randomMiner({ rng });
    case 'threshold':
      return thresholdMiner({ type: spec.type, margin });
  }
}

/** The registry names of the built-in miners. */
export const MINER_NAMES: readonly MinerSpec['name'][] = MinerSpecSchema.options.map((o) => o.shape.name.value);
