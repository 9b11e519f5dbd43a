/** Why a single record was quarantined. Counted as `<stage>.<reason>`. */
export type RejectReason =
  | 'bad_json'
  | 'invalid_utf8'
  | 'schema_mismatch'
  | 'missing_text'
  | 'empty_text'
  | 'missing_label'
  | 'bad_type'
  | 'empty_after_tokenize'
  | 'incomplete_batch'
  | 'pool_overflow'
  | 'filtered';

/** One record is unusable. The run goes on; the record is quarantined and counted. */
export class RecordError extends Error {
  override readonly name = 'RecordError';
  constructor(
    readonly reason: RejectReason,
    readonly recordId?: string,
    message?: string,
    options?: ErrorOptions & { record?: unknown },
  ) {
    super(message ?? (recordId ? `${reason} (record ${recordId})` : reason), options);
    this.record = options?.record;
  }
  /** The raw record as it arrived, for the quarantine file. */
  readonly record: unknown;
}

/** The whole run cannot go on (unreadable input, a model that fails to load). Exit code 1. */
export class FatalError extends Error {
  override readonly name = 'FatalError';
  constructor(message: string, options?: ErrorOptions & { file?: string }) {
    super(message, options);
    this.file = options?.file;
  }
  /** The file at fault, when there is one. */
  readonly file: string | undefined;
}

/** An option or config field is invalid; the message names the field's path and how to fix it. Exit code 1. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, options);
  }
}

/** `v` when it is an integer >= `min`, else a ConfigError at `path` saying so, with `hint` on what the option means. */
export function intAtLeast(path: string, v: number, min: number, hint: string): number {
  if (!Number.isInteger(v) || v < min) throw new ConfigError(path, `must be an integer >= ${min} (got ${v}); ${hint}`);
  return v;
}

/** True when `e` is a RecordError, across module copies (worker threads lose prototypes). */
export function isRecordError(e: unknown): e is RecordError {
  return e instanceof RecordError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'RecordError');
}
