// Runtime-validated types shared by stages.
export * from './doc.js';
export * from './raw-record.js';
export * from './tokenized-doc.js';
export * from './data-options.js';
export * from './batch.js';
export * from './batch-schedule.js';
export * from './triplets.js';
export * from './train-config.js';
export * from './feature-cache.js';
