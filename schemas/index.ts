// Runtime-validated types shared by stages.
export * from './doc.js';
export * from './raw-record.js';
export * from './tokenized-doc.js';
export * from './data-options.js';
