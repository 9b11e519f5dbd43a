import type { RunContext } from '../pipeline/context.js';
import { ConfigError, RecordError } from '../pipeline/errors.js';
import { mapOrQuarantine } from '../pipeline/quarantine.js';
import type { Stage } from '../pipeline/stage.js';
import type { FeatureDtype } from '../schemas/feature-cache.js';
import type { RawRecord } from '../schemas/raw-record.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';
import { unpackFeatures } from './metric/float16.js';

/** Options of read-features: what the cache's footer metadata says (`tripletflow.features`). */
export interface ReadFeaturesOptions {
  /** Values per vector. */
  readonly dim: number;
  /** Bytes on disk: `float32` (4 per value) or `float16` (2 per value). */
  readonly dtype: FeatureDtype;
}

const NO_IDS = new Int32Array(0);

/**
 * One row of a feature cache shard → TokenizedDoc with `features` (float32) and no token ids. A row whose features are
 * not dim × 2|4 bytes, or whose id or label is missing, throws RecordError `schema_mismatch`. (The stage below maps it
 * over a stream; a record-by-record reader can call it directly.)
 */
export function featuresFromRecord(r: RawRecord, opts: ReadFeaturesOptions): TokenizedDoc {
  const bytes = opts.dim * (opts.dtype === 'float16' ? 2 : 4);
  const o = r.value as { id?: unknown; label?: unknown; features?: unknown } | null;
  const fail = (what: string): never => {
    throw new RecordError('schema_mismatch', `${r.file}:${r.row}`, `${r.file} row ${r.row + 1}: ${what}; this file is not a feature cache shard from \`tripletflow prepare --encoder DIR --out DIR\``, { record: { id: o?.id, label: o?.label } });
  };
  if (typeof o?.id !== 'string' || o.id.length === 0) fail('field "id" must be a non-empty string');
  if (typeof o?.label !== 'string' || o.label.length === 0) fail('field "label" must be a non-empty string');
  const f = o?.features;
  if (!(f instanceof Uint8Array) || f.length !== bytes) fail(`field "features" must hold ${bytes} bytes (${opts.dim} × ${opts.dtype})`);
  return { id: o?.id as string, label: o?.label as string, ids: NO_IDS, features: unpackFeatures(f as Uint8Array, opts.dtype) };
}

/**
 * RawRecord of a feature cache shard (written by `prepare --encoder DIR --out DIR`: id, label, features) → TokenizedDoc
 * with `features` (float32) and no token ids, so the head trains without running the encoder again. Rows that are
 * not feature rows are quarantined as `schema_mismatch` (see `featuresFromRecord`).
 * Use: `readShards(ctx, { inputs: ['features/'] })().through(readFeatures(ctx, { dim: 384, dtype: 'float16' }))`.
 */
export function readFeatures(ctx: RunContext, opts: ReadFeaturesOptions): Stage<RawRecord, TokenizedDoc> {
  if (!Number.isInteger(opts.dim) || opts.dim < 1) throw new ConfigError('read-features.dim', `must be an integer >= 1 (got ${opts.dim})`);
  return mapOrQuarantine(ctx.scope('read-features'), (r: RawRecord): TokenizedDoc => featuresFromRecord(r, opts));
}
