import { readParquetBlocks } from '../adapters/parquet-reader.js';
import type { RawBlock } from './jsonl-blocks.js';

/** Reads a parquet file as blocks, one row group at a time, as RawRecords (row = row index in the file). */
export async function* parquetBlocks(file: string, opts: { columns?: string[]; fromRowGroup?: number } = {}): AsyncGenerator<RawBlock> {
  for await (const b of readParquetBlocks(file, opts)) {
    const perRow = b.rows.length > 0 ? b.bytes / b.rows.length : 0;
    yield {
      file,
      block: b.rowGroup,
      records: b.rows.map((value, i) => ({ file, row: b.firstRow + i, value, bytes: perRow })),
      fileBytes: b.bytes,
    };
  }
}
