import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FatalError } from '../../../pipeline/errors.js';
import { parquetInfo, readParquetBlocks, type ParquetBlock } from '../../../stages/adapters/parquet-reader.js';
import { writeParquetFile } from '../../../stages/adapters/parquet-writer.js';

const FIXTURE = new URL('../../fixtures/small-corpus.parquet', import.meta.url).pathname;
const FIXTURE_JSONL = new URL('../../fixtures/small-corpus.jsonl', import.meta.url).pathname;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-parquet-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<ParquetBlock>): Promise<ParquetBlock[]> {
  const out: ParquetBlock[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** Resolves to the FatalError `p` rejects with (fails the test otherwise). */
async function fatalOf(p: Promise<unknown>): Promise<FatalError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FatalError);
  return e as FatalError;
}

/** A file of `groups` row groups of `rows` rows each: id "r<i>", text of ~200 chars. */
async function makeFile(name: string, groups: number, rows: number): Promise<string> {
  const n = groups * rows;
  const file = join(dir, name);
  await writeParquetFile(
    file,
    [
      { name: 'id', type: 'STRING', data: Array.from({ length: n }, (_, i) => `r${i}`) },
      { name: 'text', type: 'STRING', data: Array.from({ length: n }, (_, i) => `row ${i} `.repeat(25)) },
    ],
    { rowGroupSize: rows },
  );
  return file;
}

describe('readParquetBlocks on small-corpus.parquet', () => {
  it('yields one block per row group, in order, with the rows of the jsonl', async () => {
    const expected = (await readFile(FIXTURE_JSONL, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    const info = await parquetInfo(FIXTURE);
    expect(info.columns).toEqual(['id', 'text', 'label']);
    expect(info.rows).toBe(expected.length);
    expect(info.rowGroups).toBeGreaterThanOrEqual(4);

    const blocks = await collect(readParquetBlocks(FIXTURE));
    expect(blocks.map((b) => b.rowGroup)).toEqual([...Array(info.rowGroups).keys()]);
    let row = 0;
    for (const b of blocks) {
      expect(b.file).toBe(FIXTURE);
      expect(b.firstRow).toBe(row);
      expect(b.rows.length).toBe(info.rowGroupRows[b.rowGroup]);
      expect(b.bytes).toBeGreaterThan(0);
      row += b.rows.length;
    }
    expect(blocks.reduce((s, b) => s + b.bytes, 0)).toBeLessThan(info.bytes);
    const rows = blocks.flatMap((b) => b.rows);
    // scripts/make-fixtures.ts keeps missing fields as nulls and wrong types as their JSON text
    const str = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
    expect(rows).toEqual(expected.map((r) => ({ id: str(r.id), text: str(r.text), label: str(r.label) })));
  });

  it('decodes only the requested columns', async () => {
    const [first] = await collect(readParquetBlocks(FIXTURE, { columns: ['text', 'label'] }));
    expect(Object.keys(first!.rows[0]!).sort()).toEqual(['label', 'text']);
  });

  it('names the file and the existing columns when a requested column is missing', async () => {
    const e = await fatalOf(collect(readParquetBlocks(FIXTURE, { columns: ['text', 'body'] })));
    expect(e.file).toBe(FIXTURE);
    expect(e.message).toContain('"body"');
    expect(e.message).toContain('id, text, label');
  });

  it('seeks to fromRowGroup and keeps file row numbers', async () => {
    const info = await parquetInfo(FIXTURE);
    const all = await collect(readParquetBlocks(FIXTURE));
    const tail = await collect(readParquetBlocks(FIXTURE, { fromRowGroup: 2 }));
    expect(tail.map((b) => b.rowGroup)).toEqual(all.slice(2).map((b) => b.rowGroup));
    expect(tail[0]!.firstRow).toBe(all[2]!.firstRow);
    expect(tail.flatMap((b) => b.rows)).toEqual(all.slice(2).flatMap((b) => b.rows));
    expect(await collect(readParquetBlocks(FIXTURE, { fromRowGroup: info.rowGroups }))).toEqual([]);
    const e = await fatalOf(collect(readParquetBlocks(FIXTURE, { fromRowGroup: info.rowGroups + 1 })));
    expect(e.message).toContain('fromRowGroup');
  });
});

describe('readParquetBlocks reads row group by row group', () => {
  it('reads each row group from disk only when it is pulled', async () => {
    const file = await makeFile('lazy.parquet', 4, 500);
    const info = await parquetInfo(file);
    expect(info.rowGroupRows).toEqual([500, 500, 500, 500]);
    const it = readParquetBlocks(file)[Symbol.asyncIterator]();
    const b0 = await it.next();
    expect(b0.value!.rows[0]).toEqual({ id: 'r0', text: 'row 0 '.repeat(25) });

    // corrupt the middle of row group 3 on disk after the scan has started: groups 1 and 2 still read, 3 fails
    const bytes = await readFile(file);
    const fh = await open(file, 'r+');
    const g3Start = Math.floor((bytes.length * 3.3) / 4);
    await fh.write(Buffer.alloc(2000, 0xff), 0, 2000, g3Start);
    await fh.close();

    expect((await it.next()).value!.firstRow).toBe(500);
    expect((await it.next()).value!.firstRow).toBe(1000);
    const e = await fatalOf(it.next());
    expect(e.file).toBe(file);
    expect(e.message).toContain('row group 3');
    expect(e.message).toMatch(/corrupt/);
  });

  it('stops cleanly when the consumer breaks early', async () => {
    const file = await makeFile('early.parquet', 3, 10);
    let seen = 0;
    for await (const b of readParquetBlocks(file)) {
      seen += b.rows.length;
      break;
    }
    expect(seen).toBe(10);
  });

  it('turns INT64 into numbers when safe, else exact decimal strings, and list<int32> into Int32Array', async () => {
    const file = join(dir, 'types.parquet');
    await writeParquetFile(file, [
      { name: 'n', type: 'INT64', data: [1n, -(2n ** 40n), 2n ** 60n] },
      { name: 'ids', type: 'LIST_INT32', data: [[1, 2], [], [-2147483648, 2147483647]] },
      { name: 'x', type: 'DOUBLE', nullable: true, data: [0.5, null, -1] },
    ]);
    const [b] = await collect(readParquetBlocks(file));
    expect(b!.rows).toEqual([
      { n: 1, ids: Int32Array.from([1, 2]), x: 0.5 },
      { n: -(2 ** 40), ids: new Int32Array(0), x: null },
      { n: '1152921504606846976', ids: Int32Array.from([-2147483648, 2147483647]), x: -1 },
    ]);
    expect(b!.rows[1]!.ids).toBeInstanceOf(Int32Array);
  });
});

describe('bad parquet files are a FatalError naming the file', () => {
  it('missing file', async () => {
    const file = join(dir, 'nope.parquet');
    const e = await fatalOf(collect(readParquetBlocks(file)));
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/does not exist.*--input/);
    expect((await fatalOf(parquetInfo(file))).file).toBe(file);
  });

  it('empty file', async () => {
    const file = join(dir, 'empty.parquet');
    await writeFile(file, '');
    const e = await fatalOf(collect(readParquetBlocks(file)));
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/empty \(0 bytes\)/);
  });

  it('a directory', async () => {
    const e = await fatalOf(parquetInfo(dir));
    expect(e.message).toMatch(/not a regular file/);
  });

  it('corrupt magic (not a parquet file)', async () => {
    const file = join(dir, 'magic.parquet');
    const bytes = await readFile(FIXTURE);
    bytes.write('{"id', 0, 'latin1');
    await writeFile(file, bytes);
    const e = await fatalOf(collect(readParquetBlocks(file)));
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/not a parquet file.*--format jsonl/);
  });

  it('truncated file (cut while copying)', async () => {
    const file = join(dir, 'truncated.parquet');
    const bytes = await readFile(FIXTURE);
    await writeFile(file, bytes);
    await truncate(file, Math.floor(bytes.length * 0.6));
    const e = await fatalOf(collect(readParquetBlocks(file)));
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/truncated/);
    expect(e.message).toMatch(/re-copy or re-export/);
  });

  it('too short to be parquet', async () => {
    const file = join(dir, 'short.parquet');
    await writeFile(file, 'PAR1PAR1');
    const e = await fatalOf(parquetInfo(file));
    expect(e.message).toMatch(/too short/);
  });

  it('corrupt footer', async () => {
    const file = join(dir, 'footer.parquet');
    const bytes = await readFile(FIXTURE);
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    bytes.fill(0xab, bytes.length - 8 - footerLength, bytes.length - 8);
    await writeFile(file, bytes);
    const e = await fatalOf(collect(readParquetBlocks(file)));
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/corrupt/);
  });
});
