// `prepare` (read → validate → shuffle → tokenize, no output) with 0, 1 and 2 tokenizer workers against the tokenizer
// alone on the same texts, interleaved rounds in one process, medians reported.
// use: npx tsx bench/gen-corpus.ts --rows 300000 --order shuffled --formats jsonl --name prep-300k
//      npx tsx bench/streaming/prepare-throughput.ts bench/data/prep-300k.jsonl --rounds 3
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../pipeline/logger.js';
import { defaultTokenizerDir } from '../../pipeline/paths.js';
import { runPrepare } from '../../pipeline/prepare.js';
import { loadTokenizer } from '../../stages/adapters/tokenizer.js';

const { values: a, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '3' } } });
const file = positionals[0];
if (!file) throw new Error('usage: prepare-throughput.ts <corpus.jsonl> [--rounds N]');
const fileMb = statSync(file).size / 1e6;
const texts = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text);
const textMb = texts.reduce((s, t) => s + Buffer.byteLength(t), 0) / 1e6;
const tok = await loadTokenizer(defaultTokenizerDir);
const results: Record<string, number[]> = {};
const add = (k: string, v: number) => (results[k] ??= []).push(v);
for (let r = 0; r < Number(a.rounds); r++) {
  let t0 = performance.now();
  let tokens = 0;
  for (const t of texts) tokens += tok.encode(t, 128).length;
  add('tokenizer alone', (performance.now() - t0) / 1000);
  for (const workers of [0, 1, 2]) {
    t0 = performance.now();
    const rep = await runPrepare({ inputs: [file], workers, progress: false, maxLength: 128 }, silentLogger());
    add(`prepare, ${workers} worker${workers === 1 ? '' : 's'}`, (performance.now() - t0) / 1000);
    if (rep.emitted !== texts.length) throw new Error(`prepare emitted ${rep.emitted}, expected ${texts.length}`);
  }
  void tokens;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const alone = median(results['tokenizer alone'] as number[]);
console.log(`${texts.length} records, ${fileMb.toFixed(1)} MB of JSONL, ${textMb.toFixed(1)} MB of text; medians of ${a.rounds} rounds`);
console.log('| variant | seconds | text MB/s | JSONL MB/s | records/s | vs tokenizer alone |');
console.log('|---|---|---|---|---|---|');
for (const [k, xs] of Object.entries(results)) {
  const s = median(xs);
  console.log(`| ${k} | ${s.toFixed(2)} | ${(textMb / s).toFixed(2)} | ${k === 'tokenizer alone' ? '-' : (fileMb / s).toFixed(2)} | ${Math.round(texts.length / s)} | ${(alone / s).toFixed(2)} |`);
}
