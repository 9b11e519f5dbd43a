// Generates a synthetic-but-realistic labelled corpus for benchmarks by resampling the real train splits in
// ../shared/data (banking77, clinc150, trec, newsgroups_mini: about 32k human-written texts, 297 classes).
// Every row takes a real text of its class and swaps about 15 % of its words for words seen in that class, so that
// texts are almost all distinct (a corpus of repeated lines would compress and dictionary-encode unrealistically well).
// Output goes to bench/data/ (git-ignored) as <name>.jsonl, <name>.jsonl.gz and/or <name>.parquet, streamed with
// bounded memory. Same arguments and seed -> identical files.
//
// use: npx tsx bench/gen-corpus.ts --rows 2500000 --order shuffled --formats parquet --name scan-2.5m
//      npx tsx bench/gen-corpus.ts --size-mb 500 --order label-sorted --formats jsonl,jsonl.gz,parquet
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { ParquetFileWriter } from '../stages/adapters/parquet-writer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string' },
    'size-mb': { type: 'string' },
    order: { type: 'string', default: 'shuffled' },
    formats: { type: 'string', default: 'jsonl,jsonl.gz,parquet' },
    name: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'row-group-size': { type: 'string', default: '100000' },
    'perturb': { type: 'string', default: '0.15' },
    data: { type: 'string', default: resolve(root, '../shared/data') },
    out: { type: 'string', default: join(root, 'bench/data') },
  },
});

type Order = 'shuffled' | 'label-sorted';
const order = args.order as Order;
if (order !== 'shuffled' && order !== 'label-sorted') throw new Error(`--order must be shuffled or label-sorted (got ${args.order})`);
const formats = new Set(args.formats!.split(','));
for (const f of formats) if (!['jsonl', 'jsonl.gz', 'parquet'].includes(f)) throw new Error(`--formats: unknown ${f}; use jsonl, jsonl.gz, parquet`);
const rowGroupSize = Number(args['row-group-size']);
const perturb = Number(args.perturb);

// --- the real pool ---------------------------------------------------------------------------------------------
interface Klass { label: string; texts: string[]; words: string[]; weight: number }
const byLabel = new Map<string, Klass>();
for (const ds of readdirSync(args.data!).sort()) {
  const f = join(args.data!, ds, 'train.jsonl');
  if (!existsSync(f)) continue;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as { text: string; label: string };
    const label = `${ds}/${r.label}`;
    let k = byLabel.get(label);
    if (!k) byLabel.set(label, (k = { label, texts: [], words: [], weight: 0 }));
    k.texts.push(r.text);
  }
}
const classes = [...byLabel.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
let poolRows = 0;
let poolJsonBytes = 0;
for (const k of classes) {
  k.words = k.texts.flatMap((t) => t.split(/\s+/).filter(Boolean));
  poolRows += k.texts.length;
}
for (const k of classes) {
  k.weight = k.texts.length / poolRows;
  for (const t of k.texts) poolJsonBytes += Buffer.byteLength(JSON.stringify({ id: 'gen:0000000', text: t, label: k.label })) + 1;
}

// --- how many rows -------------------------------------------------------------------------------------------------
let rows: number;
if (args.rows) rows = Number(args.rows);
else if (args['size-mb']) rows = Math.round((Number(args['size-mb']) * 1e6) / (poolJsonBytes / poolRows));
else throw new Error('give --rows N or --size-mb M');
const name = args.name ?? `${order}-${rows}`;
mkdirSync(args.out!, { recursive: true });

// --- seeded generator (mulberry32) ------------------------------------------------------------------------------
let state = Number(args.seed) >>> 0 || 1;
function rand(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
const cumulative = classes.map(((s) => (k: Klass) => (s += k.weight))(0));
function pickClass(): Klass {
  const u = rand();
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return classes[lo]!;
}
function synthText(k: Klass): string {
  const words = pick(k.texts).split(' ');
  for (let i = 0; i < words.length; i++) if (rand() < perturb) words[i] = pick(k.words);
  return words.join(' ');
}

// label-sorted: class quotas proportional to the real class sizes, then classes one after another
const quotas = classes.map((k) => Math.floor(k.weight * rows));
for (let i = 0, left = rows - quotas.reduce((a, b) => a + b, 0); left > 0; i = (i + 1) % quotas.length, left--) quotas[i]!++;
let sortedClass = 0;
let sortedLeft = quotas[0]!;
function nextClass(): Klass {
  if (order === 'shuffled') return pickClass();
  while (sortedLeft === 0) sortedLeft = quotas[++sortedClass]!;
  sortedLeft--;
  return classes[sortedClass]!;
}

// --- writers --------------------------------------------------------------------------------------------------------
async function write(stream: WriteStream | Gzip, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}
const jsonl = formats.has('jsonl') ? createWriteStream(join(args.out!, `${name}.jsonl`)) : undefined;
const gzFile = formats.has('jsonl.gz') ? createWriteStream(join(args.out!, `${name}.jsonl.gz`)) : undefined;
const gz = gzFile ? createGzip({ level: 6 }) : undefined;
if (gz && gzFile) gz.pipe(gzFile);
const parquet = formats.has('parquet')
  ? await ParquetFileWriter.open(join(args.out!, `${name}.parquet`), [
      { name: 'id', type: 'STRING' },
      { name: 'text', type: 'STRING' },
      { name: 'label', type: 'STRING' },
    ])
  : undefined;

const started = Date.now();
const BATCH = Math.min(rowGroupSize, 10_000);
let ids: string[] = [];
let texts: string[] = [];
let labels: string[] = [];
let lines = '';
let jsonBytes = 0;
for (let i = 0; i < rows; i++) {
  const k = nextClass();
  const id = `gen:${i}`;
  const text = synthText(k);
  const line = JSON.stringify({ id, text, label: k.label }) + '\n';
  jsonBytes += Buffer.byteLength(line);
  if (jsonl || gz) lines += line;
  if (parquet) {
    ids.push(id);
    texts.push(text);
    labels.push(k.label);
  }
  if ((i + 1) % BATCH === 0 || i + 1 === rows) {
    if (jsonl) await write(jsonl, lines);
    if (gz) await write(gz, lines);
    lines = '';
  }
  if (parquet && (ids.length === rowGroupSize || i + 1 === rows)) {
    await parquet.writeRowGroup({ id: ids, text: texts, label: labels });
    ids = [];
    texts = [];
    labels = [];
  }
  if ((i + 1) % 500_000 === 0) console.error(`${i + 1} rows, ${(jsonBytes / 1e6).toFixed(0)} MB of JSONL, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
const done: Promise<unknown>[] = [];
if (jsonl) done.push(new Promise((r) => jsonl.end(r)));
if (gz && gzFile) {
  done.push(once(gzFile, 'finish'));
  gz.end();
}
if (parquet) done.push(parquet.close());
await Promise.all(done);
console.error(
  `${name}: ${rows} rows, ${classes.length} classes, ${order}, JSONL ${(jsonBytes / 1e6).toFixed(1)} MB; ` +
    `wrote ${[...formats].map((f) => join(args.out!, `${name}.${f}`)).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
