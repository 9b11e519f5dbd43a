/**
 * The tokenize stage against the tokenizer alone, on the same texts held in memory: the stage pulls Docs from an
 * in-memory highland stream, so only tokenization, chunking, messaging and reassembly are timed. No truncation
 * (maxLength 1e9) so every variant produces the same tokens.
 *
 * usage: npx tsx bench/tokenize/stage.ts <file.jsonl ...>   (VARIANTS=alone,0,1,2 by default)
 */
import { readFileSync } from 'node:fs';
import _ from 'highland';
import { RunContext } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';
import { drain } from '../../pipeline/stage.js';
import type { Doc } from '../../schemas/doc.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import { loadTokenizer } from '../../stages/adapters/tokenizer.js';
import { tokenize } from '../../stages/tokenize.js';

const files = process.argv.slice(2);
const docs: Doc[] = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc));
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);
const variants = (process.env.VARIANTS ?? 'alone,0,1,2').split(',');
const maxLength = 1e9;
console.error(`${docs.length} docs, ${(bytes / 1e6).toFixed(1)} MB`);
const report = (variant: string, s: number, tokens: number) =>
  console.log(JSON.stringify({ variant, seconds: +s.toFixed(2), mbPerSec: +(bytes / 1e6 / s).toFixed(2), tokensPerSec: Math.round(tokens / s) }));

for (const v of variants) {
  if (v === 'alone') {
    const tok = await loadTokenizer();
    for (const d of docs.slice(0, 2000)) tok.encode(d.text, maxLength);
    let tokens = 0;
    const t0 = performance.now();
    for (const d of docs) tokens += tok.encode(d.text, maxLength).length;
    report('tokenizer alone (main thread)', (performance.now() - t0) / 1000, tokens);
    continue;
  }
  const workers = Number(v);
  const ctx = new RunContext({ logger: silentLogger() });
  let tokens = 0;
  const stage = tokenize(ctx, { workers, maxLength });
  // warm-up: start the workers and load the tokenizer outside the timing
  await drain<TokenizedDoc>()(tokenize(ctx, { workers, maxLength })(_(docs.slice(0, 2000))));
  const t0 = performance.now();
  await drain<TokenizedDoc>()(stage(_(docs)).tap((d) => { tokens += d.ids.length; }));
  report(workers === 0 ? 'stage, in-process (workers: 0)' : `stage, ${workers} worker thread${workers > 1 ? 's' : ''}`, (performance.now() - t0) / 1000, tokens);
}
