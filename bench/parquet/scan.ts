// Full-scan rate of parquet readers on one file, against `cat` of the same file.
// Each reader runs in its own child process (so peak RSS is its own), `--repeat` times; the best run is reported.
// Every reader must produce the same row count and checksum (sum of text lengths, first and last id): that also
// checks that a file written by hyparquet-writer reads identically in independent implementations.
//
// Candidates other than hyparquet are not dependencies of tripletflow; install them outside the repo:
//   mkdir -p /tmp/pqbench && cd /tmp/pqbench && npm init -y && npm i -E parquet-wasm@0.8.0 apache-arrow@21.2.0 @dsnp/parquetjs@1.8.8
// use: PQBENCH_NODE_MODULES=/tmp/pqbench/node_modules npx tsx bench/parquet/scan.ts bench/data/scan-2.5m.parquet [--repeat 3] [--readers a,b]
import { spawnSync } from 'node:child_process';
import { openAsBlob, openSync, closeSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readParquetBlocks } from '../../stages/adapters/parquet-reader.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repeat: { type: 'string', default: '3' },
    readers: { type: 'string', default: 'cat,tripletflow,parquet-wasm,parquet-wasm-arrow,parquetjs' },
    child: { type: 'string' },
    columns: { type: 'string', default: 'id,text,label' },
  },
});
if (!positionals[0]) throw new Error('usage: scan.ts <file.parquet> [--repeat N] [--readers cat,tripletflow,parquet-wasm,parquet-wasm-arrow,parquetjs]');
const file: string = positionals[0];
const columns = args.columns!.split(',');

interface Scan { rows: number; textChars: number; firstId: string; lastId: string }
interface Result extends Scan { reader: string; seconds: number; peakRssMb: number }

const external = (): NodeRequire => {
  const dir = process.env.PQBENCH_NODE_MODULES;
  if (!dir) throw new Error('set PQBENCH_NODE_MODULES to a node_modules holding parquet-wasm, apache-arrow and @dsnp/parquetjs (see the header)');
  return createRequire(join(dir, 'x.js'));
};

/** Every reader builds one JS object per row with every requested column, as the pipeline's sources must. */
const readers: Record<string, () => Promise<Scan>> = {
  async tripletflow() {
    const s = emptyScan();
    for await (const b of readParquetBlocks(file, { columns })) for (const r of b.rows) touch(s, r);
    return s;
  },

  async 'parquet-wasm'() {
    return parquetWasm(true);
  },

  /** parquet-wasm decoding to Arrow only: the cost before any JS string or row object exists. */
  async 'parquet-wasm-arrow'() {
    return parquetWasm(false);
  },

  async parquetjs() {
    const { ParquetReader } = external()('@dsnp/parquetjs') as {
      ParquetReader: { openFile(f: string): Promise<{ getCursor(c?: string[][]): { next(): Promise<Record<string, unknown> | null> }; close(): Promise<void> }> };
    };
    const reader = await ParquetReader.openFile(file);
    const cursor = reader.getCursor(columns.map((c) => [c]));
    const s = emptyScan();
    for (let r = await cursor.next(); r; r = await cursor.next()) touch(s, r);
    await reader.close();
    return s;
  },
};

async function parquetWasm(materialise: boolean): Promise<Scan> {
  const req = external();
  const pw = req('parquet-wasm') as {
    ParquetFile: { fromFile(b: Blob): Promise<{ metadata(): { numRowGroups(): number }; read(o: object): Promise<{ intoIPCStream(): Uint8Array }> }> };
  };
  const arrow = req('apache-arrow') as {
    tableFromIPC(b: Uint8Array): { numRows: number; getChild(n: string): unknown };
  };
  // a file-backed Blob: parquet-wasm fetches byte ranges of it, one row group at a time
  const pf = await pw.ParquetFile.fromFile((await openAsBlob(file)) as Blob);
  const groups = pf.metadata().numRowGroups();
  const s = emptyScan();
  for (let g = 0; g < groups; g++) {
    const t = arrow.tableFromIPC((await pf.read({ rowGroups: [g], columns })).intoIPCStream());
    if (!materialise) {
      s.rows += t.numRows;
      continue;
    }
    const cols = columns.map((c) => utf8Column(t.getChild(c)!));
    for (let i = 0; i < t.numRows; i++) {
      const r: Record<string, unknown> = {};
      for (let c = 0; c < columns.length; c++) r[columns[c]!] = cols[c]![i];
      touch(s, r);
    }
  }
  return s;
}

/**
 * Strings out of an Arrow Utf8 column by slicing its value buffer with Buffer#toString (native UTF-8 decoding),
 * much faster than iterating the vector; nulls are not expected in the benchmark corpus.
 */
function utf8Column(vector: unknown): string[] {
  const out: string[] = [];
  for (const d of (vector as { data: { length: number; valueOffsets: Int32Array; values: Uint8Array }[] }).data) {
    const buf = Buffer.from(d.values.buffer, d.values.byteOffset, d.values.byteLength);
    const off = d.valueOffsets;
    for (let i = 0; i < d.length; i++) out.push(buf.toString('utf8', off[i]!, off[i + 1]!));
  }
  return out;
}

function emptyScan(): Scan {
  return { rows: 0, textChars: 0, firstId: '', lastId: '' };
}
function touch(s: Scan, r: Record<string, unknown>): void {
  if (s.rows === 0) s.firstId = String(r.id);
  s.lastId = String(r.id);
  s.textChars += typeof r.text === 'string' ? r.text.length : 0;
  s.rows++;
}

if (args.child) {
  const t0 = performance.now();
  const scan = await readers[args.child]!();
  const seconds = (performance.now() - t0) / 1000;
  const result: Result = { reader: args.child, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, ...scan };
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  const bytes = statSync(file).size;
  const wanted = args.readers!.split(',');
  const best = new Map<string, Result>();
  for (let rep = 0; rep < Number(args.repeat); rep++) {
    for (const reader of wanted) {
      const r = reader === 'cat' ? runCat() : runChild(reader);
      const prev = best.get(reader);
      if (!prev || r.seconds < prev.seconds) best.set(reader, r);
    }
  }
  const reference = best.get('tripletflow') ?? [...best.values()].find((r) => r.reader !== 'cat');
  console.log(`file: ${file}, ${(bytes / 1e6).toFixed(1)} MB, best of ${args.repeat}, columns ${columns.join(',')}`);
  console.log('| reader | rows | seconds | rows/s | MB/s (file bytes) | peak RSS MB | checksum matches |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of best.values()) {
    const ok = r.reader === 'cat' || r.reader === 'parquet-wasm-arrow'
      ? (r.reader === 'cat' ? 'n/a' : r.rows === reference?.rows ? 'rows only' : 'NO')
      : r.rows === reference?.rows && r.textChars === reference.textChars && r.firstId === reference.firstId && r.lastId === reference.lastId
        ? 'yes'
        : 'NO';
    const rows = r.reader === 'cat' ? '-' : String(r.rows);
    const rate = r.reader === 'cat' ? '-' : Math.round(r.rows / r.seconds).toLocaleString('en-US');
    console.log(`| ${r.reader} | ${rows} | ${r.seconds.toFixed(2)} | ${rate} | ${(bytes / 1e6 / r.seconds).toFixed(0)} | ${r.peakRssMb.toFixed(0)} | ${ok} |`);
  }
  if (reference) console.log(`checksum: ${reference.rows} rows, ${reference.textChars} text chars, ids ${reference.firstId} .. ${reference.lastId}`);
}

function runChild(reader: string): Result {
  const self = fileURLToPath(import.meta.url);
  const p = spawnSync(process.execPath, ['--import', 'tsx', self, file, '--child', reader, '--columns', columns.join(',')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (p.status !== 0) throw new Error(`${reader} failed with exit code ${p.status}`);
  return JSON.parse(p.stdout.trim().split('\n').pop()!) as Result;
}

function runCat(): Result {
  const devNull = openSync('/dev/null', 'w');
  const t0 = performance.now();
  const p = spawnSync('cat', [file], { stdio: ['ignore', devNull, 'inherit'] });
  const seconds = (performance.now() - t0) / 1000;
  closeSync(devNull);
  if (p.status !== 0) throw new Error('cat failed');
  return { reader: 'cat', seconds, peakRssMb: 0, ...emptyScan() };
}
