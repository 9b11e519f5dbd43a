import type { RunContext } from '../pipeline/context.js';
import { RecordError } from '../pipeline/errors.js';
import { mapOrQuarantine } from '../pipeline/quarantine.js';
import type { Stage } from '../pipeline/stage.js';
import type { Doc } from '../schemas/doc.js';
import type { RawRecord } from '../schemas/raw-record.js';

/** Which fields of a record hold the text, the label and the id. */
export interface ValidateDocsOptions {
  /** Field holding the text. Default `text`. */
  readonly textField?: string;
  /** Field holding the class label (string or integer). Default `label`. */
  readonly labelField?: string;
  /** Field holding the record id; without it, or when a record lacks it, the id is `<file>:<row>`. Default `id`. */
  readonly idField?: string;
}

/**
 * RawRecord → Doc. Quarantines, with a reason naming the file, row and field: bad_json, invalid_utf8,
 * schema_mismatch (not an object), missing_text, empty_text, missing_label, bad_type.
 * Use: `raw.through(validateDocs(ctx, { textField: 'body' }))`.
 */
export function validateDocs(ctx: RunContext, opts: ValidateDocsOptions = {}): Stage<RawRecord, Doc> {
  return mapOrQuarantine(ctx.scope('validate'), (r: RawRecord): Doc => docFromRecord(r, opts));
}

/** One RawRecord → Doc, or a RecordError with the reason (what `validateDocs` applies to each record). */
export function docFromRecord(r: RawRecord, opts: ValidateDocsOptions = {}): Doc {
  const textField = opts.textField ?? 'text';
  const labelField = opts.labelField ?? 'label';
  const idField = opts.idField ?? 'id';
  const where = `${r.file} row ${r.row + 1}`;
  const fail = (reason: ConstructorParameters<typeof RecordError>[0], msg: string): never => {
    throw new RecordError(reason, `${r.file}:${r.row}`, `${where}: ${msg}`, { record: r.value });
  };
  if (r.parseError === 'bad_json') fail('bad_json', 'not valid JSON; each line must be one JSON object');
  if (r.parseError === 'invalid_utf8') fail('invalid_utf8', 'not valid UTF-8; re-encode the file as UTF-8');
  const v = r.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail('schema_mismatch', `expected an object with fields "${textField}" and "${labelField}", got ${Array.isArray(v) ? 'an array' : typeof v}`);
  }
  const o = v as Record<string, unknown>;
  const text = o[textField];
  if (text === undefined || text === null) fail('missing_text', `field "${textField}" is missing; set --text-field to the field holding the text`);
  if (typeof text !== 'string') fail('bad_type', `field "${textField}" must be a string, got ${typeof text}`);
  if ((text as string).trim().length === 0) fail('empty_text', `field "${textField}" is empty`);
  const label = o[labelField];
  if (label === undefined || label === null) fail('missing_label', `field "${labelField}" is missing; set --label-field to the field holding the class`);
  let labelStr: string;
  if (typeof label === 'string') labelStr = label;
  else if (typeof label === 'number' && Number.isInteger(label)) labelStr = String(label);
  else if (typeof label === 'bigint') labelStr = label.toString();
  else labelStr = fail('bad_type', `field "${labelField}" must be a string or an integer, got ${typeof label === 'number' ? label : typeof label}`);
  if (labelStr.trim().length === 0) fail('missing_label', `field "${labelField}" is an empty string`);
  const rawId = o[idField];
  const id = typeof rawId === 'string' && rawId.length > 0 ? rawId
    : typeof rawId === 'number' || typeof rawId === 'bigint' ? String(rawId) : `${r.file}:${r.row}`;
  return { id, text: text as string, label: labelStr };
}
