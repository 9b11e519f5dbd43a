// The only file that imports a parquet reading library (hyparquet). See bench/parquet/README.md for why hyparquet.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData, SchemaTree } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { FatalError } from '../../pipeline/errors.js';

/** One row group of a parquet file, decoded to plain row objects. */
export interface ParquetBlock {
  /** The file as it was given. */
  readonly file: string;
  /** 0-based row group index within the file. */
  readonly rowGroup: number;
  /** 0-based row index in the file of `rows[0]`. */
  readonly firstRow: number;
  /** Decoded rows: strings, numbers (INT64 as number when safe, else a decimal string), `Int32Array` for list<int32>, null for nulls. */
  readonly rows: Record<string, unknown>[];
  /** Compressed bytes of this row group on disk (for progress). */
  readonly bytes: number;
}

/** What the footer of a parquet file says, without reading any data page. */
export interface ParquetInfo {
  /** Total rows in the file. */
  readonly rows: number;
  /** Number of row groups. */
  readonly rowGroups: number;
  /** Top-level column names, in schema order. */
  readonly columns: string[];
  /** File size in bytes. */
  readonly bytes: number;
  /** Rows of each row group, in order. */
  readonly rowGroupRows: number[];
  /** The footer's key-value metadata (empty when there is none). */
  readonly keyValue: Record<string, string>;
}

/** Options of `readParquetBlocks`. */
export interface ReadParquetBlocksOptions {
  /** Top-level columns to decode; default: all. A name the file lacks is a FatalError. */
  readonly columns?: readonly string[];
  /** First row group to read (0-based), to resume a scan; default 0. Equal to the row group count reads nothing. */
  readonly fromRowGroup?: number;
}

const MAGIC = 'PAR1';
/** Header magic + footer length + footer magic. */
const MIN_PARQUET_BYTES = 12;

/**
 * Reads a parquet file one row group at a time, through a file handle and byte-range reads.
 * Memory holds at most one row group (its compressed bytes and its decoded rows) at a time.
 * A missing, empty, truncated or corrupt file is a FatalError naming the file.
 * use: for await (const block of readParquetBlocks('shard-00000.parquet', { columns: ['text', 'label'] })) …
 */
export async function* readParquetBlocks(file: string, opts: ReadParquetBlocksOptions = {}): AsyncGenerator<ParquetBlock> {
  const opened = await openParquet(file);
  try {
    const { metadata, buffer } = opened;
    const columns = opts.columns ? [...opts.columns] : undefined;
    const converters = columnConverters(file, metadata, columns);
    const groupCount = metadata.row_groups.length;
    const from = opts.fromRowGroup ?? 0;
    if (!Number.isInteger(from) || from < 0 || from > groupCount) {
      throw new FatalError(
        `parquet: ${file}: fromRowGroup must be an integer in 0..${groupCount} (the file has ${groupCount} row groups), got ${from}`,
        { file },
      );
    }
    let firstRow = 0;
    for (let g = 0; g < from; g++) firstRow += Number(metadata.row_groups[g]!.num_rows);

    for (let g = from; g < groupCount; g++) {
      const group = metadata.row_groups[g]!;
      const groupRows = Number(group.num_rows);
      let rows: Record<string, unknown>[] = [];
      if (groupRows > 0) {
        try {
          await parquetRead({
            file: buffer,
            metadata,
            columns,
            rowStart: firstRow,
            rowEnd: firstRow + groupRows,
            rowFormat: 'object',
            compressors,
            onComplete: (data) => {
              rows = data as Record<string, unknown>[];
            },
          });
        } catch (e) {
          throw new FatalError(
            `parquet: ${file}: row group ${g} (rows ${firstRow}..${firstRow + groupRows - 1}) cannot be decoded: ${errorText(e)}; ` +
              'the file is corrupt or truncated, re-copy or re-export it (or pass --skip-bad-files)',
            { file, cause: e },
          );
        }
        if (rows.length !== groupRows) {
          throw new FatalError(
            `parquet: ${file}: row group ${g} should hold ${groupRows} rows but decoded ${rows.length}; ` +
              'the file is corrupt, re-export it (or pass --skip-bad-files)',
            { file },
          );
        }
        if (converters.length > 0) convertRows(rows, converters);
      }
      yield { file, rowGroup: g, firstRow, rows, bytes: groupBytes(group) };
      firstRow += groupRows;
    }
  } finally {
    await opened.handle.close();
  }
}

/** Reads only the footer of a parquet file: row and row group counts, columns, size. FatalError as for `readParquetBlocks`. */
export async function parquetInfo(file: string): Promise<ParquetInfo> {
  const { metadata, handle, size } = await openParquet(file);
  await handle.close();
  const rowGroupRows = metadata.row_groups.map((g) => Number(g.num_rows));
  return {
    rows: Number(metadata.num_rows),
    rowGroups: rowGroupRows.length,
    columns: topLevelColumns(metadata),
    keyValue: Object.fromEntries((metadata.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? ''])),
    bytes: size,
    rowGroupRows,
  };
}

interface OpenedParquet {
  handle: FileHandle;
  size: number;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
}

async function openParquet(file: string): Promise<OpenedParquet> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new FatalError(`parquet: ${file} is not a regular file; give a .parquet file, a directory or a glob`, { file });
    size = st.size;
  } catch (e) {
    if (e instanceof FatalError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${errorText(e)})`;
    throw new FatalError(`parquet: ${file} ${what}; check the --input path or glob`, { file, cause: e });
  }
  if (size === 0) {
    throw new FatalError(`parquet: ${file} is empty (0 bytes), expected a parquet file; remove it or re-export it`, { file });
  }
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new FatalError(`parquet: ${file} cannot be opened (${errorText(e)}); check its permissions`, { file, cause: e });
  }
  try {
    if (size < MIN_PARQUET_BYTES) {
      throw new FatalError(
        `parquet: ${file} is ${size} bytes, too short for a parquet file (at least ${MIN_PARQUET_BYTES}); it is truncated, re-copy or re-export it`,
        { file },
      );
    }
    const head = await readAt(handle, 0, 4);
    if (head.toString('latin1') !== MAGIC) {
      throw new FatalError(
        `parquet: ${file} is not a parquet file: it starts with ${JSON.stringify(head.toString('latin1'))} instead of "PAR1"; ` +
          'check the file, or pass --format jsonl if it is JSON lines',
        { file },
      );
    }
    const tail = await readAt(handle, size - 8, 8);
    if (tail.toString('latin1', 4, 8) !== MAGIC) {
      throw new FatalError(
        `parquet: ${file} is truncated or corrupt: it does not end with "PAR1" (${size} bytes); ` +
          'it was probably cut off while being written or copied, re-copy or re-export it',
        { file },
      );
    }
    const footerLength = tail.readUInt32LE(0);
    if (footerLength + MIN_PARQUET_BYTES > size) {
      throw new FatalError(
        `parquet: ${file} is corrupt: its footer claims ${footerLength} bytes but the file has ${size}; re-copy or re-export it`,
        { file },
      );
    }
    const buffer = handleBuffer(handle, size);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (e) {
      throw new FatalError(`parquet: ${file} has a corrupt footer (${errorText(e)}); re-copy or re-export it`, { file, cause: e });
    }
    checkChunkRanges(file, metadata, size - footerLength - 8);
    return { handle, size, buffer, metadata };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Every column chunk must lie inside the data region, or reads would run into the footer or past the end. */
function checkChunkRanges(file: string, metadata: FileMetaData, dataEnd: number): void {
  metadata.row_groups.forEach((group, g) => {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      if (start < 4 || end > dataEnd) {
        throw new FatalError(
          `parquet: ${file} is corrupt: column ${meta.path_in_schema.join('.')} of row group ${g} spans bytes ${start}..${end} ` +
            `but data ends at byte ${dataEnd}; re-copy or re-export it`,
          { file },
        );
      }
    }
  });
}

/** An AsyncBuffer over an open file: each slice is one positioned read, so nothing but the requested range is in memory. */
function handleBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const length = Math.max(0, stop - start);
      const bytes = await readAt(handle, start, length);
      // a fresh, exactly-sized allocation, so the ArrayBuffer holds no neighbouring pool memory
      return bytes.buffer as ArrayBuffer;
    },
  };
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafeSlow(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled < length) throw new Error(`short read: wanted ${length} bytes at ${position}, got ${filled}`);
  return bytes;
}

type Converter = { name: string; convert: (v: unknown) => unknown };

/** Decides once per file which columns need converting, from the schema, so plain string columns cost nothing. */
function columnConverters(file: string, metadata: FileMetaData, columns: string[] | undefined): Converter[] {
  const schema = parquetSchema(metadata);
  const byName = new Map(schema.children.map((c) => [c.element.name, c]));
  if (columns) {
    const missing = columns.filter((c) => !byName.has(c));
    if (missing.length > 0) {
      throw new FatalError(
        `parquet: ${file} has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (it has ${[...byName.keys()].join(', ')}); ` +
          'set --text-field / --label-field / --id-field to existing columns',
        { file },
      );
    }
  }
  const converters: Converter[] = [];
  for (const name of columns ?? [...byName.keys()]) {
    const node = byName.get(name)!;
    if (isListOfInt32(node)) converters.push({ name, convert: toInt32Array });
    else if (mayHoldBigInt(node)) converters.push({ name, convert: convertValue });
  }
  return converters;
}

function isListOfInt32(node: SchemaTree): boolean {
  if (node.element.converted_type !== 'LIST' && node.element.logical_type?.type !== 'LIST') return false;
  const repeated = node.children[0];
  const leaf = repeated?.children.length === 1 ? repeated.children[0] : repeated;
  if (!leaf || leaf.children.length > 0 || leaf.element.type !== 'INT32') return false;
  const ct = leaf.element.converted_type;
  return ct === undefined || ct === 'INT_32' || ct === 'INT_16' || ct === 'INT_8';
}

function mayHoldBigInt(node: SchemaTree): boolean {
  if (node.children.length > 0) return node.children.some(mayHoldBigInt);
  return node.element.type === 'INT64' || node.element.type === 'INT96';
}

function convertRows(rows: Record<string, unknown>[], converters: Converter[]): void {
  for (const row of rows) {
    for (const { name, convert } of converters) row[name] = convert(row[name]);
  }
}

function toInt32Array(v: unknown): unknown {
  if (Array.isArray(v)) {
    // a null element cannot live in an Int32Array; keep the list as it is so validation can reject it
    for (const x of v) if (typeof x !== 'number') return v;
    return Int32Array.from(v as number[]);
  }
  return v;
}

/** BigInt → number when it is a safe integer, else its decimal string (JSON-safe, exact); recurses into lists and structs. */
function convertValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(convertValue);
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && !ArrayBuffer.isView(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = convertValue(x);
    return out;
  }
  return v;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function groupBytes(group: FileMetaData['row_groups'][number]): number {
  if (group.total_compressed_size !== undefined) return Number(group.total_compressed_size);
  let bytes = 0;
  for (const c of group.columns) bytes += Number(c.meta_data?.total_compressed_size ?? 0);
  return bytes;
}

function topLevelColumns(metadata: FileMetaData): string[] {
  return parquetSchema(metadata).children.map((c) => c.element.name);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
