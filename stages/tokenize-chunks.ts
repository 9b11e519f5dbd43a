import _ from 'highland';
import type { RunContext } from '../pipeline/context.js';
import { intAtLeast, RecordError } from '../pipeline/errors.js';
import { parallelMap } from '../pipeline/parallel-map.js';
import { chunkStream } from '../pipeline/chunk-stream.js';
import { named, type Stage, type Stream } from '../pipeline/stage.js';
import { WorkerPool } from '../pipeline/worker-pool.js';
import type { Doc } from '../schemas/doc.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { DEFAULT_TOKENIZER_DIR, loadTokenizer, type TextTokenizer, type TokenizerImplementation } from './adapters/tokenizer.js';
import { encodeChunk, type EncodedChunk, type TokenizeWorkerInit } from './tokenize-worker.js';

/** Options of the tokenize stages (`tokenize`, `tokenize-chunks`). */
export interface TokenizeOptions {
  /** Tokenizer directory in Hugging Face layout (tokenizer.json). Default: the bundled bert-base-uncased. */
  readonly tokenizer?: string;
  /** Token budget per document, [CLS] and [SEP] included; longer text is truncated, keeping [SEP] last. Default 128 tokens. */
  readonly maxLength?: number;
  /** Worker threads that tokenize; 0 tokenizes on the calling thread. Default 1 (frees the main thread for reading and shuffling). */
  readonly workers?: number;
  /** Most documents per chunk sent to a worker (amortises message overhead). Default 256 documents. */
  readonly chunkDocs?: number;
  /** A chunk is sent once its texts reach this many UTF-16 code units. Default 262_144 characters. */
  readonly chunkChars?: number;
  /** Chunks in flight ahead of the consumer (read-ahead bound: chunksInFlight × chunkDocs documents). Default 2 × max(workers, 1). */
  readonly chunksInFlight?: number;
  /** Tokenizer implementation, as `loadTokenizer` takes it. Default `auto`. */
  readonly implementation?: TokenizerImplementation | 'auto';
}

const WORKER_MODULE = new URL(`./tokenize-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

const positiveInt = (field: string, v: number, min: number, hint: string): number => intAtLeast(`tokenize.${field}`, v, min, hint);

/**
 * Doc → TokenizedDoc[]: `tokenize` that emits each chunk's tokenized docs as one array (at most `chunkDocs`, in input
 * order; a chunk whose docs were all quarantined is not emitted), so a consumer that takes arrays, like
 * `balance-batches`, pays one highland step per chunk instead of one per record. Same ids, order, quarantine
 * (`empty_after_tokenize`) and counters as `tokenize`: both count as `tokenize.*`, so a report does not depend on
 * how records travel. Put it last before the consumer: a shuffle after it would shuffle whole chunks.
 * use: docs.through(shuffleWindow(ctx, opts)).through(tokenizeChunks(ctx, { workers: 1 })).through(balanceBatches(ctx, pk))
 */
export function tokenizeChunks(ctx: RunContext, opts: TokenizeOptions = {}): Stage<Doc, TokenizedDoc[]> {
  const scope = ctx.scope('tokenize');
  const dir = opts.tokenizer ?? DEFAULT_TOKENIZER_DIR;
  const implementation = opts.implementation ?? 'auto';
  const maxLength = positiveInt('maxLength', opts.maxLength ?? 128, 3, 'it counts [CLS] and [SEP] too, so 3 keeps one text token');
  const workers = positiveInt('workers', opts.workers ?? 1, 0, 'use 0 to tokenize on the calling thread');
  const chunkDocs = positiveInt('chunkDocs', opts.chunkDocs ?? 256, 1, 'use 1 to send documents one by one');
  const chunkChars = positiveInt('chunkChars', opts.chunkChars ?? 262_144, 1, 'it caps the text per chunk');
  const inFlight = positiveInt('chunksInFlight', opts.chunksInFlight ?? 2 * Math.max(workers, 1), 1, 'use 1 for no read-ahead');

  return named('tokenize-chunks', (src: Stream<Doc>): Stream<TokenizedDoc[]> => {
    // loaded on the calling thread even with workers: a bad directory fails here, once, with a clear FatalError
    let local: Promise<TextTokenizer> | undefined;
    let pool: WorkerPool<TokenizeWorkerInit, string[], EncodedChunk> | undefined;
    const tokenizer = () => (local ??= loadTokenizer(dir, { implementation }));
    const encode = async (docs: Doc[]): Promise<{ docs: Doc[]; enc: EncodedChunk; specials: number }> => {
      const tok = await tokenizer();
      const texts = docs.map((d) => d.text);
      if (workers === 0) return { docs, enc: encodeChunk(tok, texts, maxLength), specials: tok.numSpecialTokens };
      if (!pool) {
        pool = new WorkerPool<TokenizeWorkerInit, string[], EncodedChunk>(WORKER_MODULE, { dir: tok.dir, maxLength, implementation }, workers);
        // a consumer that stops early never lets the end reach close() below: the run context closes the pool then
        ctx.defer(close);
      }
      return { docs, enc: await pool.run(texts), specials: tok.numSpecialTokens };
    };
    const close = () => {
      const p = pool;
      pool = undefined;
      return p ? p.close() : Promise.resolve();
    };
    return chunkStream(src, chunkDocs, (d) => d.text.length, chunkChars)
      .through(parallelMap(inFlight, encode, 'tokenize'))
      .consume<TokenizedDoc[]>((err, x, push, next) => {
        if (err) {
          push(err);
          next();
        } else if (_.isNil(x)) {
          void close().then(() => push(null, _.nil));
        } else {
          const { docs, enc, specials } = x as Awaited<ReturnType<typeof encode>>;
          const out: TokenizedDoc[] = [];
          docs.forEach((doc, i) => {
            const from = enc.offsets[i] as number;
            const to = enc.offsets[i + 1] as number;
            if (to - from <= specials) scope.quarantine(new RecordError('empty_after_tokenize', doc.id, `empty_after_tokenize (record ${doc.id}): no token left after normalization; the text holds only whitespace, control or format characters`), doc);
            else out.push({ id: doc.id, label: doc.label, ids: enc.ids.slice(from, to) });
          });
          if (out.length > 0) push(null, out);
          next();
        }
      });
  });
}
