/**
 * Id-for-id agreement of each tokenizer candidate with @huggingface/transformers (the reference) on every text of the
 * given JSONL files (default: all of /work/shared/data), plus the torture strings of the unit tests.
 *
 * usage: npx tsx bench/tokenize/agreement.ts [files.jsonl ...]
 * Prints one JSON line per candidate: {candidate, texts, mismatches, examples}.
 */
import { readFileSync } from 'node:fs';
import fg from 'fast-glob';
import { loadTokenizer } from '../../stages/adapters/tokenizer.js';
import { candidates } from './candidates.js';
import { TORTURE } from '../../test/fixtures/tokenizer-torture.js';

const files = process.argv.slice(2).length ? process.argv.slice(2) : fg.sync('/work/shared/data/**/*.jsonl').sort();
const texts: string[] = [];
for (const f of files) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (line.trim()) texts.push((JSON.parse(line) as { text: string }).text);
  }
}
texts.push(...TORTURE);
const reference = await loadTokenizer(undefined, { implementation: 'transformers' });
const expected = texts.map((t) => reference.encode(t));
console.error(`${texts.length} texts from ${files.length} files + ${TORTURE.length} torture strings`);
for (const cand of await candidates()) {
  let mismatches = 0;
  const examples: { text: string; expected: number[]; got: number[] }[] = [];
  texts.forEach((t, i) => {
    const got = cand.encode(t);
    const exp = expected[i] as Int32Array;
    if (got.length !== exp.length || Array.from(got).some((v, k) => v !== exp[k])) {
      mismatches++;
      if (examples.length < 3) examples.push({ text: t.slice(0, 200), expected: Array.from(exp).slice(0, 40), got: Array.from(got).slice(0, 40) });
    }
  });
  console.log(JSON.stringify({ candidate: cand.name, texts: texts.length, mismatches, examples }));
}
