// Checks that tokenized shards written by TokenizedShardWriter (hyparquet-writer) are standard parquet: two independent
// readers, parquet-wasm (Rust arrow-rs parquet) and @dsnp/parquetjs, must read back exactly the ids, labels and
// input_ids that were written, and so must tripletflow's own reader. Also reads test/fixtures/small-corpus.parquet.
// Needs the out-of-repo candidates (see scan.ts's header).
// use: PQBENCH_NODE_MODULES=/tmp/pqbench/node_modules npx tsx bench/parquet/verify-writer.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readParquetBlocks } from '../../stages/adapters/parquet-reader.js';
import { TokenizedShardWriter } from '../../stages/adapters/parquet-writer.js';

const dir = process.env.PQBENCH_NODE_MODULES;
if (!dir) throw new Error('set PQBENCH_NODE_MODULES (see bench/parquet/scan.ts)');
const req = createRequire(join(dir, 'x.js'));
const pw = req('parquet-wasm') as {
  ParquetFile: { fromFile(b: Blob): Promise<{ metadata(): { numRowGroups(): number }; read(o: object): Promise<{ intoIPCStream(): Uint8Array }> }> };
};
const arrow = req('apache-arrow') as { tableFromIPC(b: Uint8Array): { numRows: number; getChild(n: string): { get(i: number): unknown } } };
const { ParquetReader } = req('@dsnp/parquetjs') as {
  ParquetReader: { openFile(f: string): Promise<{ getCursor(): { next(): Promise<Record<string, unknown> | null> }; close(): Promise<void> }> };
};

interface Row { id: string; label: string; ids: number[] }

function docs(n: number): { id: string; label: string; ids: Int32Array<ArrayBuffer> }[] {
  let s = 7;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31);
  return Array.from({ length: n }, (_, i) => ({
    id: `doc:${i}:ü€`,
    label: ['card_arrival', 'exchange_rate', 'ラベル'][i % 3]!,
    ids: Int32Array.from({ length: i % 11 === 0 ? 0 : next() % 129 }, (_, k) => (k === 1 ? -2147483648 : k === 2 ? 2147483647 : next() % 30522)),
  }));
}

async function viaParquetWasm(file: string): Promise<Row[]> {
  const pf = await pw.ParquetFile.fromFile((await openAsBlob(file)) as Blob);
  const out: Row[] = [];
  for (let g = 0; g < pf.metadata().numRowGroups(); g++) {
    const t = arrow.tableFromIPC((await pf.read({ rowGroups: [g] })).intoIPCStream());
    const [id, label, ids] = ['id', 'label', 'input_ids'].map((c) => t.getChild(c));
    for (let i = 0; i < t.numRows; i++) {
      const list = ids!.get(i) as { toArray(): Int32Array };
      out.push({ id: id!.get(i) as string, label: label!.get(i) as string, ids: Array.from(list.toArray()) });
    }
  }
  return out;
}

async function viaParquetjs(file: string): Promise<Row[]> {
  const reader = await ParquetReader.openFile(file);
  const cursor = reader.getCursor();
  const out: Row[] = [];
  for (let r = await cursor.next(); r; r = await cursor.next()) {
    // parquetjs returns a 3-level LIST as { list: [{ element }] }, and an empty list as undefined
    const list = (r.input_ids as { list?: { element: number }[] } | undefined)?.list ?? [];
    out.push({ id: String(r.id), label: String(r.label), ids: list.map((e) => e.element) });
  }
  await reader.close();
  return out;
}

async function viaTripletflow(file: string): Promise<Row[]> {
  const out: Row[] = [];
  for await (const b of readParquetBlocks(file)) {
    for (const r of b.rows) out.push({ id: r.id as string, label: r.label as string, ids: Array.from(r.input_ids as Int32Array) });
  }
  return out;
}

const tmp = await mkdtemp(join(tmpdir(), 'tf-verify-'));
try {
  const input = docs(5000);
  const w = new TokenizedShardWriter({ dir: tmp, recordsPerShard: 3000, rowGroupSize: 1000 });
  for (const d of input) await w.write(d);
  const { shards } = await w.close();
  const expected = JSON.stringify(input.map((d) => ({ id: d.id, label: d.label, ids: Array.from(d.ids) })));
  for (const [name, read] of [['parquet-wasm', viaParquetWasm], ['@dsnp/parquetjs', viaParquetjs], ['tripletflow', viaTripletflow]] as const) {
    const rows = (await Promise.all(shards.map(read))).flat();
    const ok = JSON.stringify(rows) === expected;
    console.log(`${name}: ${rows.length} tokenized rows from ${shards.length} shards ${ok ? 'identical' : 'DIFFER'}`);
    if (!ok) process.exitCode = 1;
  }
  const fixture = new URL('../../test/fixtures/small-corpus.parquet', import.meta.url).pathname;
  let a = 0;
  for await (const b of readParquetBlocks(fixture)) a += b.rows.length;
  const reader = await ParquetReader.openFile(fixture);
  const cursor = reader.getCursor();
  let n = 0;
  while (await cursor.next()) n++;
  await reader.close();
  const pf = await pw.ParquetFile.fromFile((await openAsBlob(fixture)) as Blob);
  console.log(`small-corpus.parquet: parquetjs reads ${n} rows, parquet-wasm sees ${pf.metadata().numRowGroups()} row groups, tripletflow ${a} rows`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
