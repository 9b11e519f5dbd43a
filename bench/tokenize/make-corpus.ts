/**
 * Writes a bigger generated JSONL corpus for the tokenizer benchmarks (not committed): records drawn from the given
 * real JSONL files with a seeded generator, and 10 % of their words replaced by random strings so that a word cache
 * keeps meeting new words, as on a real large corpus.
 *
 * usage: npx tsx bench/tokenize/make-corpus.ts <out.jsonl> <megabytes> [in.jsonl ...]   (default inputs: /work/shared/data/*\/train.jsonl)
 */
import { createWriteStream, readFileSync } from 'node:fs';
import fg from 'fast-glob';

const [out, mbArg, ...inputs] = process.argv.slice(2);
if (!out || !mbArg) throw new Error('usage: make-corpus.ts <out.jsonl> <megabytes> [in.jsonl ...]');
const files = inputs.length ? inputs : fg.sync('/work/shared/data/*/train.jsonl').sort();
const docs = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; label: string }));
let state = 0x9e3779b9;
const rand = () => {
  state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};
const letters = 'abcdefghijklmnopqrstuvwxyzéü0123456789';
const target = Number(mbArg) * 1e6;
const w = createWriteStream(out);
let bytes = 0;
for (let row = 0; bytes < target; row++) {
  const d = docs[Math.floor(rand() * docs.length)] as { text: string; label: string };
  const text = d.text.replace(/\S+/g, (word) => {
    if (rand() >= 0.1) return word;
    let s = '';
    const n = 3 + Math.floor(rand() * 10);
    for (let k = 0; k < n; k++) s += letters[Math.floor(rand() * letters.length)];
    return s;
  });
  const line = `${JSON.stringify({ id: `gen:${row}`, text, label: d.label })}\n`;
  bytes += Buffer.byteLength(line);
  if (!w.write(line)) await new Promise<void>((r) => { w.once('drain', () => r()); });
}
w.end();
console.error(`wrote ${out}: ${(bytes / 1e6).toFixed(1)} MB`);
