// Every built-in stage, source and sink.
export * from './read-shards.js';
export * from './read-tokenized.js';
export * from './validate-docs.js';
export * from './shuffle-window.js';
export * from './tokenize.js';
export * from './encode-features.js';
export * from './read-features.js';
export * from './sources/list-shards.js';
export * from './sources/jsonl-blocks.js';
export * from './sources/parquet-blocks.js';
export * from './adapters/tokenizer.js';
export * from './adapters/parquet-reader.js';
export * from './adapters/parquet-writer.js';
export * from './adapters/onnx-encoder.js';
export * from './balance-batches.js';
export * from './train-step.js';
export * from './metric/index.js';
