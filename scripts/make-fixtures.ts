// Builds test/fixtures/small-corpus.parquet from test/fixtures/small-corpus.jsonl (same rows, columns id, text, label,
// row groups of 64 rows). When the jsonl does not exist yet (or with --recut), it is first cut from
// ../shared/data/banking77/train.jsonl: 30 rows of each of the first 10 classes, in class order, plus 8 deliberately
// bad lines. Deterministic: running it again gives identical bytes.
// use: npx tsx scripts/make-fixtures.ts [--recut]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeParquetFile } from '../stages/adapters/parquet-writer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test/fixtures');
const jsonlPath = join(fixtures, 'small-corpus.jsonl');
const parquetPath = join(fixtures, 'small-corpus.parquet');
const evalPath = join(fixtures, 'small-eval.jsonl');
const banking77 = process.env.BANKING77_TRAIN ?? resolve(root, '../shared/data/banking77/train.jsonl');
/** Rows per row group: small, so tests see several row groups. */
const ROW_GROUP_SIZE = 64;

/** Real rows per class and classes taken from banking77 (which is sorted by class, so the corpus is too). */
const PER_CLASS = 30;
/** Held-out rows per class for small-eval.jsonl. */
const EVAL_PER_CLASS = 15;
const CLASSES = 10;
/** Deliberately bad records, inserted at fixed places: each exercises one quarantine reason. */
const BAD_LINES: Array<[at: number, line: string]> = [
  [5, '{"id": "bad:json", "text": "unterminated'],
  [40, '{"id": "bad:missing-text", "label": "card_arrival"}'],
  [75, '{"id": "bad:empty-text", "text": "   ", "label": "card_arrival"}'],
  [110, '{"id": "bad:missing-label", "text": "where is my card"}'],
  [145, '{"id": "bad:number-text", "text": 42, "label": "card_linking"}'],
  [180, '{"id": "bad:empty-label", "text": "how do I top up", "label": ""}'],
  [215, '["not", "an", "object"]'],
  [250, '{"id": "bad:control-only", "text": "\\u0000\\u200b\\u0001", "label": "card_linking"}'],
];

if (!existsSync(jsonlPath) || process.argv.includes('--recut')) {
  const byClass = new Map<string, string[]>();
  for (const line of readFileSync(banking77, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const label = (JSON.parse(line) as { label: string }).label;
    if (!byClass.has(label) && byClass.size >= CLASSES) continue;
    const rows = byClass.get(label) ?? [];
    if (rows.length < PER_CLASS) rows.push(line);
    byClass.set(label, rows);
  }
  const lines = [...byClass.values()].flat();
  // held-out rows of the same classes for evaluation tests
  const evalRows = new Map<string, string[]>();
  const used = new Set(lines);
  for (const line of readFileSync(banking77, 'utf8').split('\n')) {
    if (!line.trim() || used.has(line)) continue;
    const label = (JSON.parse(line) as { label: string }).label;
    if (!byClass.has(label)) continue;
    const rows = evalRows.get(label) ?? [];
    if (rows.length < EVAL_PER_CLASS) rows.push(line);
    evalRows.set(label, rows);
  }
  writeFileSync(evalPath, [...evalRows.values()].flat().join('\n') + '\n');
  console.error(`wrote ${evalPath}: ${CLASSES} classes x ${EVAL_PER_CLASS} held-out rows`);
  for (const [at, bad] of [...BAD_LINES].reverse()) lines.splice(at, 0, bad);
  writeFileSync(jsonlPath, lines.join('\n') + '\n');
  console.error(`wrote ${jsonlPath}: ${CLASSES} classes x ${PER_CLASS} rows of ${banking77} + ${BAD_LINES.length} bad lines`);
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
