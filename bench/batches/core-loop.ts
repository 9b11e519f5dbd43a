// Balancer cost alone: pre-generates the records (not timed), then pushes them in a plain loop.
// Run: npx tsx bench/batches/core-loop.ts [records=1000000] [classes=10000] [P=500] [K=4] [pool=32000]
import { Rng } from '../../pipeline/rng.js';
import type { TokenizedDoc } from '../../schemas/tokenized-doc.js';
import { BatchBalancer } from '../../stages/balance/batch-balancer.js';
import { ZipfSampler } from '../../test/helpers/tokenized-docs.js';

const [records = 1_000_000, classes = 10_000, P = 500, K = 4, pool = 32_000] = process.argv.slice(2).map(Number);
const rng = Rng.derive(1, 'generated-docs');
const zipf = new ZipfSampler(classes);
const labels = Array.from({ length: classes }, (_x, r) => `z${r}`);
const docs: TokenizedDoc[] = new Array<TokenizedDoc>(records);
for (let i = 0; i < records; i++) docs[i] = { id: `g${i}`, label: labels[zipf.draw(rng)] as string, ids: new Int32Array(32) };
const bal = new BatchBalancer({ classesPerBatch: P, samplesPerClass: K, poolCapacity: pool }, Rng.derive(1, 'balance-batches'), { reject: () => {} });
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let batches = 0;
for (let i = 0; i < records; i++) if (bal.push(docs[i] as TokenizedDoc)) batches++;
batches += bal.endEpoch().length;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const c = process.cpuUsage(cpu0);
const cpuSeconds = (c.user + c.system) / 1e6;
process.stdout.write(`${JSON.stringify({ records, batches, seconds: +seconds.toFixed(3), cpuSeconds: +cpuSeconds.toFixed(3), recordsPerSec: Math.round(records / seconds), recordsPerCpuSec: Math.round(records / cpuSeconds), maxPoolRecords: bal.stats().maxPoolRecords, quarantined: bal.stats().quarantined })}\n`);
