// The only file that imports a parquet writing library (hyparquet-writer).
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement, Writer } from 'hyparquet-writer';
import { FatalError } from '../../pipeline/errors.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import { FeatureCacheMetaSchema, type FeatureCacheMeta, type FeatureCacheMetaInput } from '../../schemas/feature-cache.js';
import { packFeatures } from '../metric/float16.js';

/**
 * Column types the writer knows. `LIST_INT32` is list<int32> (3-level LIST), for token ids; `LIST_FLOAT` list<float>, for
 * embeddings; `FIXED_BYTES` a FIXED_LEN_BYTE_ARRAY of `byteLength` bytes per value (Uint8Array), for packed feature vectors.
 */
export type ParquetColumnType = 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'LIST_INT32' | 'LIST_FLOAT' | 'FIXED_BYTES';

/** One column of a file written by `ParquetFileWriter`. */
export interface ParquetColumnSpec {
  readonly name: string;
  readonly type: ParquetColumnType;
  /** Allow nulls; default false (REQUIRED column). */
  readonly nullable?: boolean;
  /** `FIXED_BYTES` only: bytes of every value. */
  readonly byteLength?: number;
}

/** Compression codecs the writer can produce without extra native code. */
export type ParquetWriteCodec = 'SNAPPY' | 'UNCOMPRESSED';

/** Options of `ParquetFileWriter.open`. */
export interface ParquetFileWriterOptions {
  /** Compression of every column; default 'SNAPPY'. */
  readonly codec?: ParquetWriteCodec;
  /** Target page size in bytes (uncompressed); default 1 MiB. */
  readonly pageSizeBytes?: number;
  /** Extra key-value metadata written in the footer. */
  readonly kvMetadata?: Record<string, string>;
}

/**
 * Writes one parquet file incrementally, one row group per `writeRowGroup` call, to `<file>.tmp` renamed to `<file>` on close,
 * so a crash never leaves a valid-looking partial file. Memory holds one row group's encoded bytes at a time.
 */
export class ParquetFileWriter {
  private rows = 0;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly tmp: string,
    private readonly handle: FileHandle,
    private readonly sink: HandleWriter,
    private readonly writer: ParquetWriter,
    private readonly columns: readonly ParquetColumnSpec[],
    private readonly pageSizeBytes: number,
  ) {}

  /** Creates (or overwrites) `file` with the given columns. */
  static async open(file: string, columns: readonly ParquetColumnSpec[], opts: ParquetFileWriterOptions = {}): Promise<ParquetFileWriter> {
    if (columns.length === 0) throw new FatalError(`parquet writer: ${file}: at least one column is required`, { file });
    const tmp = `${file}.tmp`;
    let handle: FileHandle;
    try {
      handle = await open(tmp, 'w');
    } catch (e) {
      throw new FatalError(`parquet writer: cannot create ${tmp} (${errorText(e)}); check that --out is a writable directory`, { file, cause: e });
    }
    const sink = new HandleWriter(handle);
    const writer = new ParquetWriter({
      writer: sink,
      schema: schemaOf(columns),
      codec: opts.codec ?? 'SNAPPY',
      statistics: false,
      kvMetadata: opts.kvMetadata ? Object.entries(opts.kvMetadata).map(([key, value]) => ({ key, value })) : undefined,
      createdBy: 'tripletflow (hyparquet-writer)',
    });
    return new ParquetFileWriter(file, tmp, handle, sink, writer, columns, opts.pageSizeBytes ?? 1 << 20);
  }

  /** Rows written so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Bytes written so far (the final size once closed). */
  get byteCount(): number {
    return this.sink.offset;
  }

  /** Appends one row group. Every column must be present and have the same length. Lists may be Int32Array or number[]. */
  async writeRowGroup(data: Record<string, ArrayLike<unknown>>): Promise<void> {
    if (this.closed) throw new Error(`parquet writer: ${this.file} is already closed`);
    const n = data[this.columns[0]!.name]?.length ?? 0;
    if (n === 0) return;
    const columnData = this.columns.map((c) => {
      const values = data[c.name];
      if (!values || values.length !== n) {
        throw new Error(`parquet writer: ${this.file}: column ${c.name} has ${values?.length ?? 'no'} values, expected ${n}`);
      }
      return { name: c.name, data: c.type === 'LIST_INT32' || c.type === 'LIST_FLOAT' ? toNestedArrays(values) : Array.from(values as ArrayLike<unknown>) };
    });
    try {
      await this.writer.write({ columnData: columnData as never, rowGroupSize: n, pageSize: this.pageSizeBytes });
      await this.sink.drain();
    } catch (e) {
      throw new FatalError(`parquet writer: ${this.file}: writing a row group failed (${errorText(e)})`, { file: this.file, cause: e });
    }
    this.rows += n;
  }

  /** Writes the footer, closes the file and moves it into place. Returns its size in bytes. */
  async close(): Promise<number> {
    if (this.closed) return this.sink.offset;
    this.closed = true;
    try {
      await this.writer.finish();
      await this.sink.drain();
      await this.handle.close();
      await rename(this.tmp, this.file);
    } catch (e) {
      throw new FatalError(`parquet writer: ${this.file}: finishing the file failed (${errorText(e)})`, { file: this.file, cause: e });
    }
    return this.sink.offset;
  }

  /** Closes and deletes the partial file (after an error upstream). */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch((e: unknown) => {
      throw new FatalError(`parquet writer: ${this.tmp}: close failed (${errorText(e)})`, { file: this.file, cause: e });
    });
    await rm(this.tmp, { force: true });
  }
}

/** Options of `writeParquetFile`. */
export interface WriteParquetFileOptions extends ParquetFileWriterOptions {
  /** Rows per row group; default 10 000. */
  readonly rowGroupSize?: number;
}

/** Writes a small parquet file from in-memory columns (tests, fixtures, benchmarks). Returns the file size in bytes. */
export async function writeParquetFile(
  file: string,
  columns: readonly (ParquetColumnSpec & { data: ArrayLike<unknown> })[],
  opts: WriteParquetFileOptions = {},
): Promise<number> {
  const rowGroupSize = opts.rowGroupSize ?? 10_000;
  checkPositiveInt('rowGroupSize', rowGroupSize);
  const w = await ParquetFileWriter.open(file, columns, opts);
  const n = columns[0]!.data.length;
  for (let start = 0; start < n; start += rowGroupSize) {
    const group: Record<string, ArrayLike<unknown>> = {};
    for (const c of columns) group[c.name] = sliceLike(c.data, start, Math.min(n, start + rowGroupSize));
    await w.writeRowGroup(group);
  }
  return w.close();
}

/** Options of `TokenizedShardWriter`. */
export interface TokenizedShardWriterOptions {
  /** Output directory, created if missing. Shards are `shard-00000.parquet`, `shard-00001.parquet`, … */
  readonly dir: string;
  /** Records per shard before rotating to the next file; default 1 000 000. */
  readonly recordsPerShard?: number;
  /** Records per row group; default 10 000. Memory bound: one row group of docs is buffered. */
  readonly rowGroupSize?: number;
  /** Compression; default 'SNAPPY' (feature shards: 'UNCOMPRESSED'). */
  readonly codec?: ParquetWriteCodec;
}

/** What a `TokenizedShardWriter` wrote. */
export interface TokenizedShardSummary {
  /** Shard paths in order. */
  readonly shards: string[];
  /** Records written. */
  readonly records: number;
  /** Bytes written over all shards. */
  readonly bytes: number;
}

/** The columns of a tokenized shard: what training reads. */
export const TOKENIZED_SHARD_COLUMNS: readonly ParquetColumnSpec[] = [
  { name: 'id', type: 'STRING' },
  { name: 'label', type: 'STRING' },
  { name: 'input_ids', type: 'LIST_INT32' },
];

/**
 * Writes records of type T, in arrival order, to parquet shards `shard-00000.parquet`, … of fixed `columns`, rotating
 * every `recordsPerShard` records. Holds at most one row group of records in memory. Subclasses say how a row group of
 * records becomes columns.
 */
abstract class ShardWriter<T> {
  private readonly recordsPerShard: number;
  private readonly rowGroupSize: number;
  private current: ParquetFileWriter | undefined;
  private pending: T[] = [];
  private readonly shards: string[] = [];
  private records = 0;
  private bytes = 0;
  private dirReady = false;
  private closed = false;

  protected constructor(
    private readonly opts: TokenizedShardWriterOptions,
    private readonly columns: readonly ParquetColumnSpec[],
    private readonly fileOptions: ParquetFileWriterOptions,
  ) {
    this.recordsPerShard = opts.recordsPerShard ?? 1_000_000;
    this.rowGroupSize = opts.rowGroupSize ?? 10_000;
    checkPositiveInt('recordsPerShard', this.recordsPerShard);
    checkPositiveInt('rowGroupSize', this.rowGroupSize);
  }

  /** The column values of one row group. */
  protected abstract toColumns(records: T[]): Record<string, ArrayLike<unknown>>;

  /** Buffers one record; writes a row group when the buffer is full, and rotates shards. Await it: that is the backpressure. */
  async write(record: T): Promise<void> {
    if (this.closed) throw new Error(`${this.constructor.name}: write after close`);
    this.pending.push(record);
    this.records++;
    const inShard = (this.records - 1) % this.recordsPerShard + 1;
    if (this.pending.length >= this.rowGroupSize || inShard === this.recordsPerShard) await this.flushGroup();
    if (inShard === this.recordsPerShard) await this.closeShard();
  }

  /** Flushes what is buffered and closes the last shard. */
  async close(): Promise<TokenizedShardSummary> {
    if (!this.closed) {
      this.closed = true;
      await this.flushGroup();
      await this.closeShard();
    }
    return { shards: [...this.shards], records: this.records, bytes: this.bytes };
  }

  /** Deletes the shard being written (after an upstream error); finished shards stay. */
  async abort(): Promise<void> {
    this.closed = true;
    this.pending = [];
    await this.current?.abort();
    this.current = undefined;
  }

  private async flushGroup(): Promise<void> {
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    if (!this.current) {
      if (!this.dirReady) {
        await mkdir(this.opts.dir, { recursive: true });
        this.dirReady = true;
      }
      const file = join(this.opts.dir, `shard-${String(this.shards.length).padStart(5, '0')}.parquet`);
      this.current = await ParquetFileWriter.open(file, this.columns, { ...this.fileOptions, ...(this.opts.codec ? { codec: this.opts.codec } : {}) });
      this.shards.push(file);
    }
    await this.current.writeRowGroup(this.toColumns(records));
  }

  private async closeShard(): Promise<void> {
    if (!this.current) return;
    this.bytes += await this.current.close();
    this.current = undefined;
  }
}

/**
 * Writes TokenizedDocs, in arrival order, to parquet shards (id: string, label: string, input_ids: list<int32>),
 * rotating every `recordsPerShard` records. Holds at most one row group of docs in memory.
 * use: const w = new TokenizedShardWriter({ dir: 'out' }); for await (const d of docs) await w.write(d); await w.close();
 */
export class TokenizedShardWriter extends ShardWriter<TokenizedDoc> {
  constructor(opts: TokenizedShardWriterOptions) {
    super(opts, TOKENIZED_SHARD_COLUMNS, {});
  }

  protected toColumns(docs: TokenizedDoc[]): Record<string, ArrayLike<unknown>> {
    return { id: docs.map((d) => d.id), label: docs.map((d) => d.label), input_ids: docs.map((d) => d.ids) };
  }
}

/** Key of the footer metadata (JSON of FeatureCacheMeta) that marks a feature cache shard. */
export const FEATURES_METADATA_KEY = 'tripletflow.features';

/** Options of `FeatureShardWriter`: those of the tokenized writer (codec default UNCOMPRESSED) plus what the features are. */
export interface FeatureShardWriterOptions extends TokenizedShardWriterOptions {
  /** Written into every shard's footer; `dim` and `dtype` fix the column's width. */
  readonly meta: FeatureCacheMetaInput;
}

/**
 * Writes docs with encoder features to parquet shards (id: string, label: string, features: FIXED_LEN_BYTE_ARRAY of
 * dim × 2 or 4 bytes, little-endian float16 or float32), with the FeatureCacheMeta as JSON under
 * `tripletflow.features` in each footer. Uncompressed by default: random-looking floats barely compress, and
 * snappy in JavaScript cut the read rate from about 1M to 45k rows/s (bench/encoder/README.md).
 * use: const w = new FeatureShardWriter({ dir, meta }); for (const d of docs) await w.write(d); await w.close();
 */
export class FeatureShardWriter extends ShardWriter<TokenizedDoc> {
  private readonly meta: FeatureCacheMeta;

  constructor(opts: FeatureShardWriterOptions) {
    const meta = FeatureCacheMetaSchema.parse(opts.meta);
    super(opts, [
      { name: 'id', type: 'STRING' },
      { name: 'label', type: 'STRING' },
      { name: 'features', type: 'FIXED_BYTES', byteLength: meta.dim * (meta.dtype === 'float16' ? 2 : 4) },
    ], { codec: 'UNCOMPRESSED', kvMetadata: { [FEATURES_METADATA_KEY]: JSON.stringify(meta) } });
    this.meta = meta;
  }

  protected toColumns(docs: TokenizedDoc[]): Record<string, ArrayLike<unknown>> {
    return {
      id: docs.map((d) => d.id),
      label: docs.map((d) => d.label),
      features: docs.map((d) => {
        const f = d.features;
        if (!f || f.length !== this.meta.dim) throw new Error(`FeatureShardWriter: record ${d.id} has ${f ? `${f.length} features` : 'no features'}, expected ${this.meta.dim}`);
        return packFeatures(f, this.meta.dtype);
      }),
    };
  }
}

/** Parquet schema for the column specs: flat columns plus 3-level LIST<INT32> (list / element), as Arrow and Spark write it. */
function schemaOf(columns: readonly ParquetColumnSpec[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    switch (c.type) {
      case 'STRING':
        schema.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type });
        break;
      case 'FIXED_BYTES':
        if (!Number.isInteger(c.byteLength) || (c.byteLength as number) < 1) throw new RangeError(`parquet writer: column ${c.name}: FIXED_BYTES needs byteLength >= 1 (got ${c.byteLength})`);
        schema.push({ name: c.name, type: 'FIXED_LEN_BYTE_ARRAY', type_length: c.byteLength, repetition_type });
        break;
      case 'LIST_INT32':
      case 'LIST_FLOAT':
        schema.push(
          { name: c.name, repetition_type, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: c.type === 'LIST_INT32' ? 'INT32' : 'FLOAT', repetition_type: 'REQUIRED' },
        );
        break;
      default:
        schema.push({ name: c.name, type: c.type, repetition_type });
    }
  }
  return schema;
}

/** The writer walks lists with Array.isArray, so typed arrays become plain arrays here, one row group at a time. */
function toNestedArrays(values: ArrayLike<unknown>): unknown[] {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === null || v === undefined || Array.isArray(v) ? v : Array.from(v as ArrayLike<number>);
  }
  return out;
}

function sliceLike(data: ArrayLike<unknown>, start: number, end: number): ArrayLike<unknown> {
  const d = data as { slice?: (s: number, e: number) => ArrayLike<unknown> };
  return typeof d.slice === 'function' ? d.slice(start, end) : Array.prototype.slice.call(data, start, end);
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`parquet writer: ${name} must be an integer >= 1 (got ${v})`);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * hyparquet-writer's Writer over a file handle: the ParquetWriter fills the in-memory buffer, and `drain`
 * appends it to the file and resets it, so the buffer never holds more than one row group.
 */
class HandleWriter extends ByteWriter implements Writer {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly handle: FileHandle) {
    super(1 << 16);
  }

  flush(): Promise<void> {
    return this.drain();
  }

  override finish(): Promise<void> {
    return this.drain();
  }

  /** Appends the buffered bytes to the file. */
  drain(): Promise<void> {
    if (this.index > 0) {
      // copy out so the buffer can be refilled while the write is in flight
      const chunk = new Uint8Array(this.buffer.slice(0, this.index));
      this.index = 0;
      this.chain = this.chain.then(async () => {
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await this.handle.write(chunk, written, chunk.length - written);
          written += bytesWritten;
        }
      });
    }
    return this.chain;
  }
}
