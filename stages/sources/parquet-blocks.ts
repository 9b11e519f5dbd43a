import { parquetInfo, readParquetBlocks } from '../adapters/parquet-reader.js';
import type { RawBlock } from './jsonl-blocks.js';

/** Options of `parquetBlocks`. */
export interface ParquetBlockOptions {
  /** Top-level columns to decode; default all. */
  readonly columns?: string[];
  /** Resume at this row of the file (0-based): reading starts at the row group holding it. Default 0. */
  readonly fromRow?: number;
}

/** Reads a parquet file as blocks, one row group at a time, as RawRecords (row = row index in the file). */
export async function* parquetBlocks(file: string, opts: ParquetBlockOptions = {}): AsyncGenerator<RawBlock> {
  let fromRowGroup = 0;
  let skip = 0;
  if ((opts.fromRow ?? 0) > 0) {
    // seek: only the row group holding `fromRow` and those after it are read
    const info = await parquetInfo(file);
    let first = 0;
    fromRowGroup = info.rowGroups;
    for (let g = 0; g < info.rowGroups; g++) {
      const n = info.rowGroupRows[g] as number;
      if (first + n > (opts.fromRow as number)) {
        fromRowGroup = g;
        skip = (opts.fromRow as number) - first;
        break;
      }
      first += n;
    }
  }
  for await (const b of readParquetBlocks(file, { ...(opts.columns ? { columns: opts.columns } : {}), fromRowGroup })) {
    const perRow = b.rows.length > 0 ? b.bytes / b.rows.length : 0;
    const rows = skip > 0 ? b.rows.slice(skip) : b.rows;
    const firstRow = b.firstRow + skip;
    skip = 0;
    yield {
      file,
      block: b.rowGroup,
      records: rows.map((value, i) => ({ file, row: firstRow + i, value, bytes: perRow })),
      fileBytes: perRow * rows.length,
    };
  }
}
