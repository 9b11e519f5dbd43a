// Peak RSS while streaming a corpus through read → validate → shuffle-window → tokenize into a deliberately
// slow consumer (it sleeps `--sleep-ms` every `--every` records), for corpora of different sizes.
// Memory must not grow with corpus size: backpressure holds the whole graph to its buffers.
// use: npx tsx bench/gen-corpus.ts --size-mb 500 --order shuffled --formats jsonl --name mem-0.5g
//      npx tsx bench/gen-corpus.ts --size-mb 2000 --order shuffled --formats jsonl --name mem-2g
//      npx tsx bench/streaming/memory.ts bench/data/mem-0.5g.jsonl bench/data/mem-2g.jsonl
import { parseArgs } from 'node:util';
import { RunContext } from '../../pipeline/context.js';
import { buildDataGraph } from '../../pipeline/data-graph.js';
import { silentLogger } from '../../pipeline/logger.js';
import { pullOne } from '../../pipeline/stage.js';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    child: { type: 'boolean', default: false },
    'shuffle-window': { type: 'string', default: '10000' },
    workers: { type: 'string', default: '2' },
    every: { type: 'string', default: '2000' },
    'sleep-ms': { type: 'string', default: '1' },
  },
});

if (a.child) {
  const input = positionals[0] as string;
  const ctx = new RunContext({ logger: silentLogger() });
  const data = await buildDataGraph(ctx, { inputs: [input], shuffleWindow: Number(a['shuffle-window']), workers: Number(a.workers) });
  const s = data.graph.stream();
  const t0 = performance.now();
  let n = 0;
  const samples: number[] = [];
  for (let r = await pullOne(s); !r.done; r = await pullOne(s)) {
    if (++n % Number(a.every) === 0) {
      await new Promise((res) => setTimeout(res, Number(a['sleep-ms'])));
      if (n % 50_000 === 0) samples.push(Math.round(process.memoryUsage().rss / 1e6));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({
    input, mb: Math.round(statSync(input).size / 1e6), records: n, seconds: Math.round(seconds),
    mbPerSec: +(statSync(input).size / 1e6 / seconds).toFixed(2),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rssAtQuarters: [0.25, 0.5, 0.75, 1].map((q) => samples[Math.max(0, Math.ceil(q * samples.length) - 1)]),
  }));
} else {
  console.log('| corpus | MB | records | seconds | MB/s | peak RSS MB | RSS at 25/50/75/100 % MB |');
  console.log('|---|---|---|---|---|---|---|');
  for (const input of positionals) {
    const r = spawnSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--child', input,
      '--shuffle-window', a['shuffle-window']!, '--workers', a.workers!, '--every', a.every!, '--sleep-ms', a['sleep-ms']!], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`child failed on ${input}: ${r.stderr}`);
    const j = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
    console.log(`| ${input} | ${j.mb} | ${j.records} | ${j.seconds} | ${j.mbPerSec} | ${j.peakRssMb} | ${j.rssAtQuarters.join(' / ')} |`);
  }
}
