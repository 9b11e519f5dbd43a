import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { FatalError } from '../../pipeline/errors.js';
import type { RawRecord } from '../../schemas/raw-record.js';

/** A run of consecutive records from one shard. */
export interface RawBlock {
  readonly file: string;
  /** Index of the block in its file (JSONL: chunk of lines; parquet: row group). */
  readonly block: number;
  readonly records: RawRecord[];
  /** File bytes consumed for this block (compressed bytes for .gz), for progress. */
  readonly fileBytes: number;
}

/** Options for reading JSONL shards. */
export interface JsonlBlockOptions {
  /** Lines per block. Default 1024. */
  readonly blockLines?: number;
  /** Read buffer in bytes. Default 1 MiB. */
  readonly chunkBytes?: number;
  /** Skip this many lines first (resume). Default 0. */
  readonly fromRow?: number;
  /**
   * Resume at this byte offset, which must be the start of line `fromRow` (a position taken from a record's
   * `offset`): the lines before it are not read. Plain files only; a .gz file cannot seek and skips `fromRow` lines.
   */
  readonly fromOffset?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');

/**
 * Reads a JSONL (or .jsonl.gz) file as blocks of parsed lines, one buffer at a time.
 * A line that is not JSON or not UTF-8 becomes a RawRecord with `parseError` (quarantined downstream);
 * blank lines are not records and are skipped. Unreadable or empty files are FatalErrors naming the file.
 */
export async function* jsonlBlocks(file: string, opts: JsonlBlockOptions = {}): AsyncGenerator<RawBlock> {
  const blockLines = opts.blockLines ?? 1024;
  const gz = /\.gz$/i.test(file);
  const seek = !gz && (opts.fromOffset ?? 0) > 0;
  const fromRow = seek ? 0 : opts.fromRow ?? 0;
  const raw = createReadStream(file, { highWaterMark: opts.chunkBytes ?? 1 << 20, ...(seek ? { start: opts.fromOffset } : {}) });
  let fileBytes = 0;
  raw.on('data', (c) => { fileBytes += c.length; });
  const input: AsyncIterable<Buffer> = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (e) => (input as unknown as NodeJS.ReadableStream).emit('error', e));

  let row = seek ? opts.fromRow ?? 0 : 0;
  // byte offset of the next line in the (decompressed) file: a resume position for plain files
  let offset = seek ? opts.fromOffset ?? 0 : 0;
  let block = 0;
  let records: RawRecord[] = [];
  let reportedBytes = 0;
  // the unfinished line: its pieces, joined once when its newline arrives (no quadratic re-copying of a long line)
  let carry: Buffer[] = [];
  let sawAny = false;

  const pushLine = (line: Buffer) => {
    const r = row++;
    const at = offset;
    offset += line.length + 1;
    // blank lines (and a trailing newline) are layout, not records
    if (line.length === 0 || (line.length === 1 && line[0] === 13) || isBlank(line)) return;
    if (r < fromRow) return;
    let text: string;
    try {
      text = utf8.decode(line);
    } catch {
      records.push({ file, row: r, offset: at, value: utf8Lossy.decode(line), bytes: line.length + 1, parseError: 'invalid_utf8' });
      return;
    }
    try {
      records.push({ file, row: r, offset: at, value: JSON.parse(text) as unknown, bytes: line.length + 1 });
    } catch {
      records.push({ file, row: r, offset: at, value: text, bytes: line.length + 1, parseError: 'bad_json' });
    }
  };
  const takeBlock = (): RawBlock => {
    const out = { file, block: block++, records, fileBytes: fileBytes - reportedBytes };
    reportedBytes = fileBytes;
    records = [];
    return out;
  };

  try {
    for await (const chunk of input) {
      sawAny ||= chunk.length > 0;
      let start = 0;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, i);
        pushLine(carry.length > 0 ? Buffer.concat([...carry, piece]) : piece);
        carry = [];
        start = i + 1;
        if (records.length >= blockLines) yield takeBlock();
      }
      if (start < chunk.length) carry.push(Buffer.from(chunk.subarray(start)));
    }
  } catch (e) {
    throw readError(file, e, row);
  }
  if (carry.length > 0) pushLine(Buffer.concat(carry));
  if (!sawAny && !seek) throw new FatalError(`${file}: the file is empty; remove it from --input or pass --skip-bad-files`, { file });
  if (records.length > 0 || reportedBytes < fileBytes) yield takeBlock();
}

function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 32 && b !== 9 && b !== 13) return false;
  return true;
}

function readError(file: string, e: unknown, row: number): FatalError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new FatalError(`${file}: no such file; check --input`, { file, cause: e });
  if (err.code === 'EACCES') return new FatalError(`${file}: permission denied`, { file, cause: e });
  if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR' || err.code === 'Z_NEED_DICT') {
    return new FatalError(
      `${file}: not a valid gzip file near line ${row + 1} (${err.message}); re-compress it or pass --skip-bad-files`,
      { file, cause: e },
    );
  }
  return new FatalError(`${file}: read failed near line ${row + 1}: ${err.message}`, { file, cause: e });
}
