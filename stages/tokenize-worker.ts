import { loadTokenizer, type TextTokenizer, type TokenizerImplementation } from './adapters/tokenizer.js';

/** What a tokenize worker is started with. */
export interface TokenizeWorkerInit {
  /** Tokenizer directory (Hugging Face layout). */
  readonly dir: string;
  /** Token budget per document, special tokens included. */
  readonly maxLength: number;
  /** Implementation, as `loadTokenizer` takes it. */
  readonly implementation: TokenizerImplementation | 'auto';
}

/** The ids of a chunk of texts: one flat array, document `i` at `ids[offsets[i] .. offsets[i + 1])`. */
export interface EncodedChunk {
  readonly ids: Int32Array;
  readonly offsets: Int32Array;
}

/** Encodes a chunk of texts into one flat id array (one message, one allocation per chunk). */
export function encodeChunk(tok: TextTokenizer, texts: readonly string[], maxLength: number): EncodedChunk {
  return flattenIds(texts.map((t) => tok.encode(t, maxLength)));
}

/** Documents' ids as one flat array and their offsets (the layout of `EncodedChunk`). */
export function flattenIds(parts: readonly Int32Array[]): EncodedChunk {
  const offsets = new Int32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = (offsets[i] as number) + (parts[i] as Int32Array).length;
  const ids = new Int32Array(offsets[parts.length] as number);
  parts.forEach((p, i) => ids.set(p, offsets[i]));
  return { ids, offsets };
}

/** Worker-thread task module for the tokenize stage: loads the tokenizer once, then encodes chunks of texts. */
export async function createHandler(init: TokenizeWorkerInit): Promise<(texts: string[]) => EncodedChunk> {
  const tok = await loadTokenizer(init.dir, { implementation: init.implementation });
  return (texts) => encodeChunk(tok, texts, init.maxLength);
}
