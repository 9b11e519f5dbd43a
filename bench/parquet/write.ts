// Write rate and peak RSS of TokenizedShardWriter (what `prepare --out` uses), then the read-back rate of the shards
// with tripletflow's reader. Docs are synthetic: lengths 8..128 tokens (mean about 40), ids in the BERT vocab range.
// use: npx tsx bench/parquet/write.ts [--docs 1000000] [--row-group-size 10000] [--records-per-shard 500000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readParquetBlocks } from '../../stages/adapters/parquet-reader.js';
import { TokenizedShardWriter } from '../../stages/adapters/parquet-writer.js';

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    'row-group-size': { type: 'string', default: '10000' },
    'records-per-shard': { type: 'string', default: '500000' },
  },
});
const n = Number(args.docs);
const dir = await mkdtemp(join(tmpdir(), 'tf-write-bench-'));
let s = 1;
const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31);
try {
  const w = new TokenizedShardWriter({ dir, rowGroupSize: Number(args['row-group-size']), recordsPerShard: Number(args['records-per-shard']) });
  let tokens = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const len = 8 + (next() % 64) + (next() % 58);
    const ids = new Int32Array(len);
    ids[0] = 101;
    for (let k = 1; k < len - 1; k++) ids[k] = 1000 + (next() % 29000);
    ids[len - 1] = 102;
    tokens += len;
    await w.write({ id: `gen:${i}`, label: `label_${next() % 300}`, ids });
  }
  const summary = await w.close();
  const writeS = (performance.now() - t0) / 1000;
  const rssAfterWrite = process.resourceUsage().maxRSS / 1024;

  const t1 = performance.now();
  let read = 0;
  let readTokens = 0;
  for (const f of summary.shards) {
    for await (const b of readParquetBlocks(f)) {
      for (const r of b.rows) readTokens += (r.input_ids as Int32Array).length;
      read += b.rows.length;
    }
  }
  const readS = (performance.now() - t1) / 1000;
  if (read !== n || readTokens !== tokens) throw new Error(`read back ${read} rows / ${readTokens} tokens, wrote ${n} / ${tokens}`);
  console.log(JSON.stringify({
    docs: n,
    tokens,
    shards: summary.shards.length,
    mb: +(summary.bytes / 1e6).toFixed(1),
    rowGroupSize: Number(args['row-group-size']),
    writeDocsPerSec: Math.round(n / writeS),
    writeTokensPerSec: Math.round(tokens / writeS),
    peakRssMbAfterWrite: Math.round(rssAfterWrite),
    readDocsPerSec: Math.round(n / readS),
    readTokensPerSec: Math.round(tokens / readS),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
