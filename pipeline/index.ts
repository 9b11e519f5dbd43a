// tripletflow's public API: the engine, the schemas and every stage, typed.
export * from './stage.js';
export * from './context.js';
export * from './counters.js';
export * from './errors.js';
export * from './quarantine.js';
export * from './parallel-map.js';
export * from './worker-pool.js';
export * from './rng.js';
export * from './logger.js';
export * from './config.js';
export * from './exit-codes.js';
export * from './paths.js';
export * from './data-graph.js';
export * from './prepare.js';
export * from '../schemas/index.js';
export * from '../stages/index.js';
