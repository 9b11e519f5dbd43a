// Shuffle quality on a label-sorted corpus, and what each setting costs in memory.
// The corpus is split into contiguous shards, so each shard holds a few classes one after another (how many
// real corpora arrive). For each (shard interleave × shuffle window) setting, it streams read → validate →
// shuffle-window and measures, on the output order:
//   - distinct labels in each window of 64 consecutive records (mean; the corpus has ~297 classes),
//   - the mean distance, in input positions, between consecutive output records,
//   - the heap held by the shuffle window (bytes per record × window) and the process's peak RSS.
// use: npx tsx bench/gen-corpus.ts --rows 300000 --order label-sorted --formats jsonl --name sorted-300k
//      npx tsx bench/streaming/shuffle-quality.ts bench/data/sorted-300k.jsonl --shards 16
import { createReadStream, createWriteStream, mkdirSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RunContext } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';
import { Graph } from '../../pipeline/stage.js';
import type { Doc } from '../../schemas/doc.js';
import { readShards } from '../../stages/read-shards.js';
import { Rng } from '../../pipeline/rng.js';
import { shuffleWindow } from '../../stages/shuffle-window.js';
import { validateDocs } from '../../stages/validate-docs.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    shards: { type: 'string', default: '16' },
    windows: { type: 'string', default: '1,1000,10000,100000' },
    interleaves: { type: 'string', default: '1,4,16' },
    seed: { type: 'string', default: '0' },
  },
});
const corpus = positionals[0];
if (!corpus) throw new Error('usage: shuffle-quality.ts <label-sorted.jsonl> [--shards N]');
const nShards = Number(a.shards);

// split into contiguous shards once (label-sorted order kept within and across shards)
const shardDir = `${corpus}.shards-${nShards}`;
if (!existsSync(shardDir)) {
  mkdirSync(shardDir, { recursive: true });
  let total = 0;
  for await (const _l of createInterface({ input: createReadStream(corpus) })) total++;
  const per = Math.ceil(total / nShards);
  let i = 0;
  let out: ReturnType<typeof createWriteStream> | undefined;
  for await (const line of createInterface({ input: createReadStream(corpus) })) {
    if (i % per === 0) {
      out?.end();
      out = createWriteStream(join(shardDir, `part-${String(i / per).padStart(4, '0')}.jsonl`));
    }
    // carry the input position so the output order can be compared with it
    const rec = JSON.parse(line) as Record<string, unknown>;
    rec.pos = i;
    if (!out!.write(JSON.stringify(rec) + '\n')) await once(out!, 'drain');
    i++;
  }
  out?.end();
  await once(out!, 'finish');
}

interface Row { setting: string; records: number; distinctPer64: number; meanJump: number; windowMb: number; peakRssMb: number; seconds: number }
const rows: Row[] = [];
for (const interleave of a.interleaves!.split(',').map(Number)) {
  for (const windowSize of a.windows!.split(',').map(Number)) {
    const ctx = new RunContext({ seed: Number(a.seed), logger: silentLogger() });
    // the id is the input position, so the output order can be compared with the input order
    const graph = Graph.from(readShards(ctx, { inputs: [shardDir], interleave }))
      .through(validateDocs(ctx, { idField: 'pos' }))
      .through(shuffleWindow<Doc>(ctx, { windowSize }));
    const t0 = performance.now();
    const heap0 = process.memoryUsage().heapUsed;
    let heapPeak = heap0;
    let prevPos = -1;
    let jumps = 0;
    let n = 0;
    let windowLabels: string[] = [];
    let distinctSum = 0;
    let windows = 0;
    await new Promise<void>((resolve, reject) => {
      graph.stream().stopOnError(reject).each((d) => {
        const pos = Number(d.id);
        if (prevPos >= 0) jumps += Math.abs(pos - prevPos);
        prevPos = pos;
        windowLabels.push(d.label);
        if (windowLabels.length === 64) {
          distinctSum += new Set(windowLabels).size;
          windows++;
          windowLabels = [];
        }
        if (++n % 5000 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      }).done(resolve);
    });
    rows.push({
      setting: `interleave ${interleave}, window ${windowSize}`,
      records: n,
      distinctPer64: distinctSum / Math.max(1, windows),
      meanJump: jumps / Math.max(1, n - 1),
      windowMb: (heapPeak - heap0) / 1e6,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      seconds: (performance.now() - t0) / 1000,
    });
    const r = rows.at(-1)!;
    console.error(`${r.setting}: ${r.distinctPer64.toFixed(1)} labels/64, jump ${r.meanJump.toFixed(0)}, ${r.seconds.toFixed(1)} s`);
  }
}
// reference: a full in-memory shuffle of the whole corpus (what an unbounded window would give)
{
  const labels: string[] = [];
  for await (const line of createInterface({ input: createReadStream(corpus) })) labels.push((JSON.parse(line) as { label: string }).label);
  const rng = Rng.derive(Number(a.seed), 'reference');
  const perm = rng.shuffle(labels.map((_l, i) => i));
  let distinctSum = 0;
  let windows = 0;
  for (let i = 0; i + 64 <= perm.length; i += 64) {
    distinctSum += new Set(perm.slice(i, i + 64).map((j) => labels[j])).size;
    windows++;
  }
  let jumps = 0;
  for (let i = 1; i < perm.length; i++) jumps += Math.abs((perm[i] as number) - (perm[i - 1] as number));
  rows.push({ setting: 'reference: full in-memory shuffle', records: perm.length, distinctPer64: distinctSum / windows, meanJump: jumps / (perm.length - 1), windowMb: NaN, peakRssMb: NaN, seconds: NaN });
}
console.log('| setting | records | distinct labels per 64 | mean input distance between neighbours | heap growth MB | peak RSS MB | seconds |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.setting} | ${r.records} | ${r.distinctPer64.toFixed(1)} | ${r.meanJump.toFixed(0)} | ${r.windowMb.toFixed(0)} | ${r.peakRssMb} | ${r.seconds.toFixed(1)} |`);
}
