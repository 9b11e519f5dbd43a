// Throughput and memory of balance-batches on a generated Zipf stream (no tokenizer).
// Run: npx tsx bench/batches/bench.ts [--records 1000000] [--classes 10000] [--classes-per-batch 500]
//        [--per-class 4] [--pool 32000] [--max-per-class N] [--max-wait-records N] [--head-share 0] [--choose uniform|weighted]
//        [--shortage fewer-classes|skip|reuse] [--tokens 32] [--seed 1] [--mode stage|core|source]
// Prints one JSON line. `source` times the generator alone (the floor under the other modes); `shuffle` runs a
// shuffle-window of the same size instead, for the cost of merely holding that many records.

import { RunContext } from '../../pipeline/context.js';
import { silentLogger } from '../../pipeline/logger.js';
import { Rng } from '../../pipeline/rng.js';
import type { Batch } from '../../schemas/batch.js';
import { BatchBalancer, type ClassChoice, type ShortagePolicy } from '../../stages/balance/batch-balancer.js';
import { balanceBatches } from '../../stages/balance-batches.js';
import { shuffleWindow } from '../../stages/shuffle-window.js';
import { generatedDocs } from '../../test/helpers/tokenized-docs.js';
import { flag } from '../flag.js';

const records = Number(flag('records', '1000000'));
const classes = Number(flag('classes', '10000'));
const P = Number(flag('classes-per-batch', '500'));
const K = Number(flag('per-class', '4'));
const pool = Number(flag('pool', String(16 * P * K)));
const maxPerClassArg = flag('max-per-class', '');
const maxWaitArg = flag('max-wait-records', '');
const headShare = Number(flag('head-share', '0'));
const choose = flag('choose', 'uniform') as ClassChoice;
const shortage = flag('shortage', 'fewer-classes') as ShortagePolicy;
const tokens = Number(flag('tokens', '32'));
const seed = Number(flag('seed', '1'));
const mode = flag('mode', 'stage');

const opts = {
  classesPerBatch: P,
  samplesPerClass: K,
  poolCapacity: pool,
  choose,
  shortage,
  ...(maxPerClassArg ? { maxPerClass: Number(maxPerClassArg) } : {}),
  ...(maxWaitArg ? { maxWaitRecords: Number(maxWaitArg) } : {}),
};
const source = () => generatedDocs({ records, classes, headShare, tokens, seed });
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

let maxPoolSeen = 0;
let samples = 0;
let sumPool = 0;
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let batches = 0;
let batchedRecords = 0;
let fullBatches = 0;
let stats: unknown;

if (mode === 'source') {
  await new Promise<void>((resolve) => source().each(() => {}).done(resolve));
} else if (mode === 'shuffle') {
  // another stage that holds poolCapacity records: the cost of keeping that many records alive
  const ctx = new RunContext({ seed, logger: silentLogger() });
  await new Promise<void>((resolve) => source().through(shuffleWindow(ctx, { windowSize: pool })).each(() => {}).done(resolve));
} else if (mode === 'core') {
  const bal = new BatchBalancer(opts, Rng.derive(seed, 'balance-batches'), { reject: () => {} });
  const onBatch = (b: Batch) => {
    batches++;
    batchedRecords += b.docs.length;
    if (b.stats.full) fullBatches++;
    const pr = bal.poolRecords;
    if (pr > maxPoolSeen) maxPoolSeen = pr;
    samples++;
    sumPool += pr;
  };
  await new Promise<void>((resolve) =>
    source().each((d) => {
      const b = bal.push(d);
      if (bal.poolRecords > maxPoolSeen) maxPoolSeen = bal.poolRecords;
      if (b) onBatch(b);
    }).done(() => {
      bal.endEpoch().forEach(onBatch);
      resolve();
    }));
  stats = bal.stats();
} else {
  const ctx = new RunContext({ seed, logger: silentLogger() });
  const stage = balanceBatches(ctx, opts);
  await new Promise<void>((resolve, reject) =>
    // no tap on the source: an extra highland step per record would be charged to the stage
    stage(source())
      .stopOnError(reject)
      .each((b) => {
        batches++;
        batchedRecords += b.docs.length;
        if (b.stats.full) fullBatches++;
        samples++;
        sumPool += stage.balancer.poolRecords;
        maxPoolSeen = Math.max(maxPoolSeen, stage.balancer.progress().maxPoolRecords);
      })
      .done(resolve));
  stats = stage.balancer.stats();
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const st = stats as { reused?: number; recordsBatched?: number; maxPoolRecords?: number; quarantined?: Record<string, number>; classesNeverServed?: number; waitRecordsMax?: number; shortBatches?: number } | undefined;
process.stdout.write(`${JSON.stringify({
  mode,
  records,
  classes,
  shape: `${P}x${K}`,
  poolCapacity: pool,
  headShare,
  choose,
  shortage,
  seconds: Math.round(seconds * 1000) / 1000,
  recordsPerSec: Math.round(records / seconds),
  // CPU time (all threads, GC included) is steadier than wall time on a shared machine
  cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
  recordsPerCpuSec: Math.round(records / cpuSeconds),
  batches,
  fullBatches,
  batchesPerSec: Math.round((batches / seconds) * 10) / 10,
  batchedRecords,
  firstUseRecords: st?.recordsBatched ?? null,
  reused: st?.reused ?? null,
  maxPoolRecords: st?.maxPoolRecords ?? null,
  maxPoolSeen,
  meanPoolAtBatch: samples ? Math.round(sumPool / samples) : null,
  withinCap: (st?.maxPoolRecords ?? maxPoolSeen) <= pool,
  quarantined: st?.quarantined ?? null,
  classesNeverServed: st?.classesNeverServed ?? null,
  waitRecordsMax: st?.waitRecordsMax ?? null,
  rssMb: rssMb(),
  peakRssMb: peakRssMb(),
})}\n`);

