// Full-scan rate of each source (read-shards only: records parsed, no validation) against `cat` (and `zcat` for .gz)
// of the same file, interleaved rounds, medians.
// use: npx tsx bench/gen-corpus.ts --rows 200000 --order shuffled --formats jsonl,jsonl.gz,parquet --name prep-200k
//      npx tsx bench/streaming/scan.ts bench/data/prep-200k.jsonl bench/data/prep-200k.jsonl.gz bench/data/prep-200k.parquet
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { RunContext } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';
import { drain } from '../../pipeline/stage.js';
import { readShards } from '../../stages/read-shards.js';
import type { RawRecord } from '../../schemas/raw-record.js';

const files = process.argv.slice(2);
const rounds = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log('| file | MB | records | cat s | read-shards s | records/s | MB/s | vs cat |');
console.log('|---|---|---|---|---|---|---|---|');
for (const f of files) {
  const mb = statSync(f).size / 1e6;
  const cat: number[] = [];
  const ours: number[] = [];
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    execFileSync('sh', ['-c', `${f.endsWith('.gz') ? 'zcat' : 'cat'} '${f}' > /dev/null`]);
    cat.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    n = await drain<RawRecord>()(readShards(new RunContext({ logger: silentLogger() }), { inputs: [f] })());
    ours.push((performance.now() - t0) / 1000);
  }
  const c = median(cat);
  const o = median(ours);
  console.log(`| ${f} | ${mb.toFixed(1)} | ${n} | ${c.toFixed(2)} | ${o.toFixed(2)} | ${Math.round(n / o)} | ${(mb / o).toFixed(1)} | ${(c / o).toFixed(3)} |`);
}
