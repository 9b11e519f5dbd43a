import type { RunContext } from '../pipeline/context.js';
import { RecordError } from '../pipeline/errors.js';
import { mapOrQuarantine } from '../pipeline/quarantine.js';
import type { Stage } from '../pipeline/stage.js';
import type { RawRecord } from '../schemas/raw-record.js';
import type { TokenizedDoc } from '../schemas/tokenized-doc.js';

/**
 * RawRecord of a tokenized shard (written by `prepare --out`: id, label, input_ids) → TokenizedDoc,
 * so a prepared corpus replays without re-tokenizing. Malformed rows are quarantined as `schema_mismatch`.
 * Use: `readShards(ctx, { inputs: ['prepared/'] })().through(readTokenized(ctx))`.
 */
export function readTokenized(ctx: RunContext): Stage<RawRecord, TokenizedDoc> {
  return mapOrQuarantine(ctx.scope('read-tokenized'), tokenizedFromRecord);
}

/** One row of a tokenized shard → TokenizedDoc, or a RecordError `schema_mismatch` (what `readTokenized` applies). */
export function tokenizedFromRecord(r: RawRecord): TokenizedDoc {
  const o = r.value as { id?: unknown; label?: unknown; input_ids?: unknown } | null;
  const ids = o?.input_ids;
  const fail = (what: string): never => {
    throw new RecordError('schema_mismatch', `${r.file}:${r.row}`, `${r.file} row ${r.row + 1}: ${what}; this file is not a tokenized shard from \`tripletflow prepare --out\``, { record: r.value });
  };
  if (typeof o?.id !== 'string' || o.id.length === 0) fail('field "id" must be a non-empty string');
  if (typeof o?.label !== 'string' || o.label.length === 0) fail('field "label" must be a non-empty string');
  let arr: Int32Array;
  if (ids instanceof Int32Array) arr = ids;
  else if (Array.isArray(ids) && ids.every((x) => Number.isInteger(x))) arr = Int32Array.from(ids as number[]);
  else arr = fail('field "input_ids" must be a list of int32');
  if (arr.length === 0) fail('field "input_ids" is empty');
  return { id: o?.id as string, label: o?.label as string, ids: arr };
}
