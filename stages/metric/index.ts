/** Metric core (issue #2): distances, online miners, triplet losses, reducers, retrieval metrics; stream-free. */
export * from './distances/index.js';
export * from './losses/index.js';
export * from './miners/index.js';
export * from './reducers/index.js';
export {
  allocLike, checkBatch, classIds, l2Normalize, l2NormalizeBackward, matrixFromRows, matrixToRows, NORMALIZE_EPS,
  type FloatArray, type Matrix,
} from './matrix.js';
export { PEER_NAMES, PEER_RECIPES, type PeerName, type PeerRecipe } from './peers.js';
export { retrievalMetrics, type RetrievalMetrics, type RetrievalMetricsInput } from './retrieval/retrieval-metrics.js';
export { tfGram, tfTripletLoss, type TfTripletLoss, type TfTripletLossOptions } from './tf-triplet-loss.js';
export {
  tripletLoss, type TripletLossCallOptions, type TripletLossDeps, type TripletLossFn, type TripletLossResult,
} from './triplet-loss.js';
export {
  countValidTriplets, isValidTriplet, keepTriplets, sortedTriplets, TripletBuilder, tripletCount, type Triplets,
} from './triplets.js';
export { batchDiagnostics, type BatchDiagnostics } from './diagnostics.js';
export { EmbeddingModel, type EncoderInput } from './model/embedding-model.js';
export { EmbeddingModelOptionsSchema, type EmbeddingModelOptions, type EmbeddingModelOptionsInput } from './model/embedding-model-options.js';
export { TokenTable, type AdamOptions, type RowGrads } from './model/token-table.js';
