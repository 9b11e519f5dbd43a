import type { RunContext } from '../pipeline/context.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import type { Doc } from '../schemas/doc.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { tokenizeChunks, type TokenizeOptions } from './tokenize-chunks.js';

export type { TokenizeOptions } from './tokenize-chunks.js';

/**
 * Doc → TokenizedDoc, in input order, on `workers` threads. Ids equal Hugging Face's `encode(text, {truncation: true,
 * max_length})`. A document with no token between [CLS] and [SEP] is quarantined as `empty_after_tokenize`.
 * (`tokenizeChunks` does the work; this stage hands its chunks on one record at a time.)
 * use: docs.through(validateDocs(ctx)).through(tokenize(ctx, { maxLength: 128, workers: 2 }))
 */
export function tokenize(ctx: RunContext, opts: TokenizeOptions = {}): Stage<Doc, TokenizedDoc> {
  const chunks = tokenizeChunks(ctx, opts);
  return named('tokenize', (src: Stream<Doc>): Stream<TokenizedDoc> => chunks(src).sequence());
}
