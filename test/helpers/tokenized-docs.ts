import _ from 'highland';
import { Rng } from '../../pipeline/rng.js';
import type { Stream } from '../../pipeline/stage.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';

/** TokenizedDocs with ids `d0, d1, …`, the given labels, and a few token ids each (no tokenizer needed). */
export function docsWithLabels(labels: readonly string[], prefix = 'd'): TokenizedDoc[] {
  return labels.map((label, i) => ({ id: `${prefix}${i}`, label, ids: Int32Array.of(101, i & 0x7fff, 102) }));
}

/** `perClass[c]` records of class `c${c}`, shuffled with `seed`. */
export function classCounts(perClass: readonly number[], seed = 1): string[] {
  const labels: string[] = [];
  perClass.forEach((n, c) => { for (let i = 0; i < n; i++) labels.push(`c${c}`); });
  return Rng.derive(seed, 'labels').shuffle(labels);
}

/** Draws class numbers from a Zipf law (weight 1/(rank+1)^s) over `classes` classes, by inverse CDF. */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  constructor(readonly classes: number, s = 1) {
    this.cdf = new Float64Array(classes);
    let acc = 0;
    for (let r = 0; r < classes; r++) {
      acc += 1 / Math.pow(r + 1, s);
      this.cdf[r] = acc;
    }
    for (let r = 0; r < classes; r++) this.cdf[r] = (this.cdf[r] as number) / acc;
  }
  /** A class number in [0, classes). */
  draw(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.classes - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Options of a generated TokenizedDoc stream. */
export interface GeneratedDocsOptions {
  readonly records: number;
  /** Classes of the Zipf part. */
  readonly classes: number;
  /** Zipf exponent. Default 1. */
  readonly exponent?: number;
  /** Share of records in one extra dominant class `head` (0 = none). Default 0. */
  readonly headShare?: number;
  /** Tokens per record. Default 16. */
  readonly tokens?: number;
  readonly seed?: number;
}

/** A lazily generated, seeded stream of TokenizedDocs with Zipf-distributed labels (`z<rank>`), pulled on demand. */
export function generatedDocs(opts: GeneratedDocsOptions): Stream<TokenizedDoc> {
  const rng = Rng.derive(opts.seed ?? 1, 'generated-docs');
  const zipf = new ZipfSampler(opts.classes, opts.exponent ?? 1);
  const headShare = opts.headShare ?? 0;
  const tokens = opts.tokens ?? 16;
  const labels = Array.from({ length: opts.classes }, (_x, r) => `z${r}`);
  let i = 0;
  return _<TokenizedDoc>((push, next) => {
    if (i >= opts.records) {
      push(null, _.nil);
      return;
    }
    const label = headShare > 0 && rng.next() < headShare ? 'head' : (labels[zipf.draw(rng)] as string);
    const ids = new Int32Array(tokens);
    ids[0] = 101;
    ids[tokens - 1] = 102;
    push(null, { id: `g${i}`, label, ids });
    i++;
    next();
  });
}
