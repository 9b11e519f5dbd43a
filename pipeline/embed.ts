import { ParquetFileWriter } from '../stages/adapters/parquet-writer.js';
import { EmbeddingModel } from '../stages/metric/model/embedding-model.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { selectBackend, type BackendChoice } from './backend.js';
import { RunContext } from './context.js';
import { FatalError } from './errors.js';
import { buildDataGraph, featureCacheOf, type DataGraphExtras } from './data-graph.js';
import { openFeatureEncoder } from '../stages/encode-features.js';
import type { Logger } from './logger.js';
import { pullOne } from './stage.js';
import { evaluateModel, type EvalMetrics } from './training/evaluate.js';

/** Options of `tripletflow eval` and `tripletflow embed`. */
export interface ModelRunOptions {
  /** Directory of a saved model (`<train --out>/model`). */
  readonly model: string;
  /** Corpus files, directories or globs. */
  readonly inputs: string[];
  readonly tokenizer?: string;
  readonly textField?: string;
  readonly labelField?: string;
  readonly idField?: string;
  readonly backend?: BackendChoice;
  /** Documents embedded per forward pass. Default 256. */
  readonly batchSize?: number;
  /** Most records evaluated (held in memory). Default 10,000. */
  readonly limit?: number;
}

async function openData(opts: ModelRunOptions, model: EmbeddingModel, ctx: RunContext, limit?: number) {
  // a head on a pretrained encoder runs that encoder (with its tokenizer) on text; a feature cache needs neither
  let extras: DataGraphExtras = {};
  let tokenizer = opts.tokenizer;
  const cache = await featureCacheOf(opts.inputs);
  if (cache && (model.options.encoder !== 'pretrained' || cache.dim !== model.options.embeddingDim)) {
    throw new FatalError(`${opts.inputs.join(', ')}: a feature cache of ${cache.dim}-value vectors, but ${opts.model} ${model.options.encoder === 'pretrained' ? `takes ${model.options.embeddingDim}-value features` : `is a ${model.options.encoder} model that reads token ids`}; give it text, or a cache made with its encoder`);
  }
  if (model.options.encoder === 'pretrained' && !cache) {
    const dir = model.options.encoderModel;
    if (!dir) throw new FatalError(`${opts.model}: a pretrained-encoder model without encoderModel in model.json; it cannot embed text`);
    const encoder = await openFeatureEncoder({ model: dir, pooling: model.options.pooling, worker: false });
    ctx.defer(() => encoder.close());
    extras = { encoder, encode: { batchSize: 64, prefetch: 1 } };
    tokenizer = encoder.info.dir;
  }
  // the model was trained on this many tokens per document; tokenize the same way
  return buildDataGraph(ctx, {
    inputs: opts.inputs, tokenizer, textField: opts.textField, labelField: opts.labelField, idField: opts.idField,
    maxLength: model.options.maxLength, shuffleWindow: 1, shuffleShards: false, interleave: 1, workers: 0, ...(limit ? { limit } : {}),
  }, extras);
}

/** Scores a saved model's retrieval on a labelled file: P@1, R-precision, MAP@R. */
export async function runEval(opts: ModelRunOptions, logger?: Logger): Promise<EvalMetrics & { records: number; quarantined: number }> {
  await selectBackend(opts.backend ?? 'auto');
  const model = await EmbeddingModel.load(opts.model);
  const ctx = new RunContext({ ...(logger ? { logger } : {}) });
  const data = await openData(opts, model, ctx, opts.limit ?? 10_000);
  const docs: TokenizedDoc[] = [];
  const s = data.graph.stream();
  for (let r = await pullOne(s); !r.done; r = await pullOne(s)) docs.push(r.value);
  const m = evaluateModel(model, docs);
  model.dispose();
  await ctx.close();
  return { ...m, records: ctx.counters.get('read.records'), quarantined: ctx.quarantine.count() };
}

/** Embeds a corpus with a saved model into a parquet file (id, label, embedding: list<float>), streaming. */
export async function runEmbed(opts: ModelRunOptions & { out: string }, logger?: Logger): Promise<{ records: number; embedded: number; quarantined: number; out: string; dim: number }> {
  await selectBackend(opts.backend ?? 'auto');
  const model = await EmbeddingModel.load(opts.model);
  const ctx = new RunContext({ ...(logger ? { logger } : {}) });
  const data = await openData(opts, model, ctx);
  const writer = await ParquetFileWriter.open(opts.out, [
    { name: 'id', type: 'STRING' }, { name: 'label', type: 'STRING' }, { name: 'embedding', type: 'LIST_FLOAT' },
  ]);
  const batchSize = opts.batchSize ?? 256;
  const D = model.outputDim;
  let embedded = 0;
  let batch: TokenizedDoc[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const e = model.embedDocs(batch, batchSize);
    await writer.writeRowGroup({
      id: batch.map((d) => d.id),
      label: batch.map((d) => d.label),
      embedding: batch.map((_d, i) => e.subarray(i * D, (i + 1) * D)),
    });
    embedded += batch.length;
    batch = [];
  };
  try {
    const s = data.graph.stream();
    for (let r = await pullOne(s); !r.done; r = await pullOne(s)) {
      batch.push(r.value);
      // row groups of 16 batches keep memory bounded and files readable row group by row group
      if (batch.length >= batchSize * 16) await flush();
    }
    await flush();
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    model.dispose();
    await ctx.close();
  }
  return { records: ctx.counters.get('read.records'), embedded, quarantined: ctx.quarantine.count(), out: opts.out, dim: D };
}
