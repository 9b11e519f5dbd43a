import { PretrainedEncoder, type PretrainedEncoderOptions } from './adapters/onnx-encoder.js';
import type { EncodedChunk } from './tokenize-worker.js';

/** What an encode worker is started with. */
export interface EncodeWorkerInit extends PretrainedEncoderOptions {
  /** Model directory (config.json, tokenizer.json, onnx/model.onnx). */
  readonly model: string;
}

/** A batch of tokenized documents as one message: document `i` is `ids[offsets[i] .. offsets[i + 1])`. */
export type EncodeRequest = EncodedChunk;

/** Splits a flat batch back into one Int32Array view per document. */
export function unflatten(req: EncodeRequest): Int32Array[] {
  return Array.from({ length: req.offsets.length - 1 }, (_x, i) => req.ids.subarray(req.offsets[i] as number, req.offsets[i + 1] as number));
}

/** Worker-thread task module of `encode-features`: loads the encoder once, then pools batches (B × dim Float32Array). */
export async function createHandler(init: EncodeWorkerInit): Promise<(req: EncodeRequest) => Promise<Float32Array>> {
  const encoder = await PretrainedEncoder.load(init.model, init);
  return (req) => encoder.encode(unflatten(req));
}
