import type { TripletLossOptionsInput } from '../../schemas/triplets.js';

/** The oracle's peer entry names (pytorch-metric-learning 2.8 = `pml_`, sentence-transformers 5.2 = `st_`). */
export type PeerName =
  | 'st_batch_all' | 'st_batch_hard' | 'st_batch_semi_hard' | 'st_batch_hard_soft_margin'
  | 'pml_triplet_all_no_miner' | 'pml_tmm_all' | 'pml_tmm_hard' | 'pml_tmm_semihard' | 'pml_tmm_easy'
  | 'pml_batch_hard' | 'pml_batch_hard_mean_reducer' | 'pml_easy_pos_semihard_neg';

/** A peer's definition as tripletflow options (distance, margin and normalisation come from the case). */
export interface PeerRecipe {
  /** The peer's class and settings, for documentation. */
  readonly peer: string;
  /** tripletflow options (miner, loss, reducer, emptyBatch) that reproduce it. */
  readonly options: Pick<TripletLossOptionsInput, 'miner' | 'loss' | 'reducer' | 'emptyBatch' | 'hingeGradient'>;
}

/**
 * Which tripletflow options reproduce each peer's definition (see docs/metric-peers.md). Checked against the
 * reference vectors in test/fixtures/oracle.
 */
export const PEER_RECIPES: Readonly<Record<PeerName, PeerRecipe>> = {
  st_batch_all: {
    peer: 'ST BatchAllTripletLoss',
    options: { miner: { name: 'batch-all' }, loss: 'margin', reducer: 'avg-non-zero', hingeGradient: 1 },
  },
  st_batch_hard: {
    peer: 'ST BatchHardTripletLoss',
    options: { miner: { name: 'batch-hard', tfMasked: true }, loss: 'margin', reducer: 'mean', hingeGradient: 1 },
  },
  st_batch_semi_hard: {
    peer: 'ST BatchSemiHardTripletLoss (TF-Addons triplet_semihard_loss)',
    options: {
      miner: { name: 'semi-hard', bounded: false, fallback: 'easiest', tfMasked: true },
      loss: 'margin',
      reducer: 'mean',
      emptyBatch: 'nan',
      hingeGradient: 0.5,
    },
  },
  st_batch_hard_soft_margin: {
    peer: 'ST BatchHardSoftMarginTripletLoss',
    options: { miner: { name: 'batch-hard', tfMasked: true }, loss: 'soft-margin', reducer: 'mean' },
  },
  pml_triplet_all_no_miner: {
    peer: 'PML TripletMarginLoss, no miner',
    options: { miner: { name: 'batch-all' }, loss: 'margin', reducer: 'avg-non-zero' },
  },
  pml_tmm_all: {
    peer: 'PML TripletMarginMiner(type_of_triplets="all") + TripletMarginLoss',
    options: { miner: { name: 'threshold', type: 'all' }, loss: 'margin', reducer: 'avg-non-zero' },
  },
  pml_tmm_hard: {
    peer: 'PML TripletMarginMiner(type_of_triplets="hard") + TripletMarginLoss',
    options: { miner: { name: 'threshold', type: 'hard' }, loss: 'margin', reducer: 'avg-non-zero' },
  },
  pml_tmm_semihard: {
    peer: 'PML TripletMarginMiner(type_of_triplets="semihard") + TripletMarginLoss',
    options: { miner: { name: 'threshold', type: 'semihard' }, loss: 'margin', reducer: 'avg-non-zero' },
  },
  pml_tmm_easy: {
    peer: 'PML TripletMarginMiner(type_of_triplets="easy") + TripletMarginLoss',
    options: { miner: { name: 'threshold', type: 'easy' }, loss: 'margin', reducer: 'avg-non-zero' },
  },
  pml_batch_hard: {
    peer: 'PML BatchHardMiner + TripletMarginLoss',
    options: { miner: { name: 'batch-hard' }, loss: 'margin', reducer: 'avg-non-zero' },
  },
  pml_batch_hard_mean_reducer: {
    peer: 'PML BatchHardMiner + TripletMarginLoss(reducer=MeanReducer())',
    options: { miner: { name: 'batch-hard' }, loss: 'margin', reducer: 'mean' },
  },
  pml_easy_pos_semihard_neg: {
    peer: 'PML BatchEasyHardMiner(pos_strategy="easy", neg_strategy="semihard") + TripletMarginLoss',
    options: {
      miner: { name: 'batch-hard', positive: 'easiest', negative: 'semi-hard' },
      loss: 'margin',
      reducer: 'avg-non-zero',
    },
  },
};

/** The peer names, in the order of the oracle README. */
export const PEER_NAMES = Object.keys(PEER_RECIPES) as PeerName[];
