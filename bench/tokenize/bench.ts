/**
 * Tokenizer throughput on one core: MB/s (UTF-8 bytes of text) and tokens/s of each candidate, full length, no
 * truncation. Texts are loaded into memory first, so only tokenization is timed.
 *
 * usage: npx tsx bench/tokenize/bench.ts <file.jsonl ...>   (KITOKEN_DIR=<dir with node_modules/kitoken> adds kitoken)
 */
import { readFileSync } from 'node:fs';
import { candidates } from './candidates.js';

const files = process.argv.slice(2);
const texts = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text));
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
const only = process.env.CANDIDATES?.split(',');
console.error(`${texts.length} texts, ${(bytes / 1e6).toFixed(1)} MB`);
for (const c of await candidates()) {
  if (only && !only.some((o) => c.name.includes(o))) continue;
  for (let i = 0; i < Math.min(texts.length, 2000); i++) c.encode(texts[i] as string);
  let tokens = 0;
  const t0 = performance.now();
  for (const t of texts) tokens += c.encode(t).length;
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ candidate: c.name, mb: +(bytes / 1e6).toFixed(1), seconds: +s.toFixed(2), mbPerSec: +(bytes / 1e6 / s).toFixed(2), tokensPerSec: Math.round(tokens / s), tokens }));
}
