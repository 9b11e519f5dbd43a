// Builds test/fixtures/small-corpus.parquet from test/fixtures/small-corpus.jsonl (same rows, columns id, text, label,
// row groups of 64 rows). When the jsonl does not exist yet, it is first cut from ../shared/data/banking77/train.jsonl
// (first 300 lines). Deterministic: running it again gives identical bytes.
// use: npx tsx scripts/make-fixtures.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeParquetFile } from '../stages/adapters/parquet-writer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test/fixtures');
const jsonlPath = join(fixtures, 'small-corpus.jsonl');
const parquetPath = join(fixtures, 'small-corpus.parquet');
const banking77 = process.env.BANKING77_TRAIN ?? resolve(root, '../shared/data/banking77/train.jsonl');
/** Rows per row group: small, so tests see several row groups. */
const ROW_GROUP_SIZE = 64;

if (!existsSync(jsonlPath)) {
  const lines = readFileSync(banking77, 'utf8').split('\n').slice(0, 300);
  writeFileSync(jsonlPath, lines.join('\n') + '\n');
  console.error(`wrote ${jsonlPath} (${lines.length} lines of ${banking77})`);
}

const ids: (string | null)[] = [];
const texts: (string | null)[] = [];
const labels: (string | null)[] = [];
let skipped = 0;
for (const line of readFileSync(jsonlPath, 'utf8').split('\n')) {
  if (line.trim() === '') continue;
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    // a malformed JSON line has no parquet equivalent: it stays a jsonl-only bad record
    skipped++;
    continue;
  }
  const r = (rec ?? {}) as Record<string, unknown>;
  // wrong types and missing fields are kept as strings / nulls so the parquet corpus carries the same bad records
  const str = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
  ids.push(str(r.id));
  texts.push(str(r.text));
  labels.push(str(r.label));
}

const bytes = await writeParquetFile(
  parquetPath,
  [
    { name: 'id', type: 'STRING', nullable: true, data: ids },
    { name: 'text', type: 'STRING', nullable: true, data: texts },
    { name: 'label', type: 'STRING', nullable: true, data: labels },
  ],
  { rowGroupSize: ROW_GROUP_SIZE, codec: 'SNAPPY' },
);
console.error(`wrote ${parquetPath}: ${ids.length} rows, ${Math.ceil(ids.length / ROW_GROUP_SIZE)} row groups, ${bytes} bytes` +
  (skipped ? ` (${skipped} malformed JSON lines not representable in parquet)` : ''));
