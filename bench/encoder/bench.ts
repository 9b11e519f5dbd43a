// Which side limits training on a pretrained encoder: embeddings/s of the frozen ONNX encoder against the train
// step of the head on its features, at the same batch sizes; then the whole `train` loop, live and from a feature
// cache, and the feature cache's size on disk.
// use: python scripts/make-onnx-fixture.py --preset minilm      # bench/data/minilm-l6-random (random weights)
//      npx tsx bench/encoder/bench.ts [--model DIR] [--device cpu|cuda] [--batch-sizes 32,64,128,256] [--threads 1,2]
//                                     [--docs 1024] [--rounds 3] [--max-length 128] [--pipeline-steps 100] [--skip-pipeline]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../../pipeline/backend.js';
import { RunContext } from '../../pipeline/context.js';
import { buildDataGraph } from '../../pipeline/data-graph.js';
import { silentLogger } from '../../pipeline/logger.js';
import { defaultTrainCorpus } from '../../pipeline/paths.js';
import { runPrepare } from '../../pipeline/prepare.js';
import { pullOne } from '../../pipeline/stage.js';
import { runTrain } from '../../pipeline/train.js';
import type { Batch } from '../../schemas/batch.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';
import type { MinerSpec } from '../../schemas/triplets.js';
import { PretrainedEncoder, type EncoderDevice } from '../../stages/adapters/onnx-encoder.js';
import { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import { Trainer } from '../../stages/train-step.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'bench/data/minilm-l6-random' },
    device: { type: 'string', default: 'cpu' },
    'batch-sizes': { type: 'string', default: '32,64,128,256' },
    threads: { type: 'string', default: '1,2' },
    docs: { type: 'string', default: '1024' },
    'max-length': { type: 'string', default: '128' },
    'pipeline-steps': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    'skip-pipeline': { type: 'boolean', default: false },
  },
});
const device = a.device as EncoderDevice;
const batchSizes = a['batch-sizes'].split(',').map(Number);
const threadCounts = a.threads.split(',').map(Number);
const docsPerConfig = Number(a.docs);
const maxLength = Number(a['max-length']);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

console.log(`# ${a.model} on ${device}; ${cpus().length} cores (${cpus()[0]?.model}); load average at start ${load()}`);
const backend = await selectBackend('auto');
console.log(`tfjs backend for the head: ${backend.backend}`);

// banking77 train texts through the model's own tokenizer, in the data graph's seeded shuffled order
const ctx = new RunContext({ seed: 0, logger: silentLogger() });
const data = await buildDataGraph(ctx, { inputs: [defaultTrainCorpus], tokenizer: a.model, maxLength, workers: 0, limit: Math.max(docsPerConfig, 2048) });
const ids: Int32Array[] = [];
const s = data.graph.stream();
for (let r = await pullOne(s); !r.done; r = await pullOne(s)) ids.push(r.value.ids);
await ctx.close();
const meanTokens = ids.reduce((n, d) => n + d.length, 0) / ids.length;
console.log(`${ids.length} banking77 texts, ${meanTokens.toFixed(1)} tokens on average (max length ${maxLength}); a batch runs as length-sorted sub-batches`);

// encoder: median time of a batch over `rounds` interleaved rounds (every thread count and batch size in each round,
// so a change in the machine's load hits all of them alike), after one warm-up batch per setting
const rounds = Number(a.rounds);
const encoder = new Map<string, number>();
const times = new Map<string, number[]>();
const sessions = new Map<number, PretrainedEncoder>();
for (const threads of threadCounts) sessions.set(threads, await PretrainedEncoder.load(a.model, { device, threads }));
for (const [threads, enc] of sessions) for (const B of batchSizes) await enc.encode(ids.slice(0, B));
for (let round = 0; round < rounds; round++) {
  for (const [threads, enc] of sessions) {
    for (const B of batchSizes) {
      const runs = Math.max(1, Math.ceil(docsPerConfig / rounds / B));
      for (let i = 0; i < runs; i++) {
        const from = ((round * runs + i) * B) % Math.max(1, ids.length - B);
        const t0 = performance.now();
        await enc.encode(ids.slice(from, from + B));
        const key = `${threads}:${B}`;
        if (!times.has(key)) times.set(key, []);
        times.get(key)?.push(performance.now() - t0);
      }
    }
  }
}
for (const [k, v] of times) encoder.set(k, median(v));
for (const enc of sessions.values()) await enc.dispose();

// head: the train step on B features (P = B / 4 classes × K = 4), the recipe's head 256 → 128, semi-hard and batch-hard
const dim = (await PretrainedEncoder.load(a.model, { device: 'cpu' }).then(async (e) => { const d = e.dim; await e.dispose(); return d; }));
const head = new Map<string, number>();
const miners: MinerSpec[] = [
  { name: 'semi-hard', fallback: 'hardest', bounded: true, tfMasked: false },
  { name: 'batch-hard', positive: 'hardest', negative: 'hardest', tfMasked: false },
];
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
for (const miner of miners) {
  for (const B of batchSizes) {
    const model = EmbeddingModel.create({ encoder: 'pretrained', embeddingDim: dim, head: [256, 128] }, 0);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const P = B / 4;
    const batch: Batch = {
      step: 0, epoch: 0, phase: { index: 0, name: 'bench', fromStep: 0, classesPerBatch: P, samplesPerClass: 4 },
      docs: Array.from({ length: B }, (_x, i) => ({ id: `d${i}`, label: `c${Math.floor(i / 4)}`, ids: new Int32Array(0), features: Float32Array.from({ length: dim }, rnd) })),
      labels: Array.from({ length: B }, (_x, i) => `c${Math.floor(i / 4)}`),
      ids: Array.from({ length: B }, (_x, i) => `d${i}`),
      classIndex: Int32Array.from({ length: B }, (_x, i) => Math.floor(i / 4)),
      stats: { classes: P, samplesPerClass: 4, full: true, reused: 0, poolRecords: 0, waitRecordsMax: 0 },
    };
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      trainer.step(batch, miner);
      if (i >= 10) times.push(performance.now() - t0);
    }
    head.set(`${miner.name}:${B}`, median(times));
    model.dispose();
  }
}

console.log(`\n## Encoder vs head, per batch (medians; encoder on the calling thread, ${device})\n`);
console.log('| batch | encoder threads | encoder ms/batch | encoder embeddings/s | head step ms (semi-hard / batch-hard) | head embeddings/s (semi-hard) | slower side |');
console.log('|---:|---:|---:|---:|---:|---:|---|');
for (const threads of threadCounts) {
  for (const B of batchSizes) {
    const e = encoder.get(`${threads}:${B}`) as number;
    const h = head.get(`semi-hard:${B}`) as number;
    const hb = head.get(`batch-hard:${B}`) as number;
    console.log(`| ${B} | ${threads} | ${e.toFixed(1)} | ${Math.round((B / e) * 1000)} | ${h.toFixed(1)} / ${hb.toFixed(1)} | ${Math.round((B / h) * 1000)} | ${e > h ? `encoder (${(e / h).toFixed(1)}×)` : `head (${(h / e).toFixed(1)}×)`} |`);
  }
}
console.log(`\nload average after the micro-benchmarks: ${load()}`);

if (!a['skip-pipeline']) {
  // the whole loop: encoder on its worker thread ahead of the trainer, 16 × 4 batches; then the same from a feature cache
  const steps = Number(a['pipeline-steps']);
  const base: TrainConfigInput = { inputs: [defaultTrainCorpus], eval: [], miner: 'semi-hard', classes: 16, perClass: 4, steps, progress: false, workers: 1, maxLength, logEvery: 1000 };
  console.log(`\n## Whole \`train\` loop, ${steps} steps of 16 × 4, semi-hard, no eval (mean steps/s)\n`);
  console.log('| input | encoder threads | steps/s | embeddings/s trained |');
  console.log('|---|---:|---:|---:|');
  for (const threads of threadCounts) {
    const out = mkdtempSync(join(tmpdir(), 'tf-bench-live-'));
    const r = await runTrain({ ...base, out, encoder: 'pretrained', encoderModel: a.model, encoderDevice: device, encoderThreads: threads, encoderBatchSize: 64 }, silentLogger());
    console.log(`| text, encoder live (batch 64, prefetch 2, worker thread) | ${threads} | ${r.stepsPerSec} | ${Math.round(r.stepsPerSec * 64)} |`);
    rmSync(out, { recursive: true, force: true });
  }
  const records = 5000;
  for (const dtype of ['float32', 'float16'] as const) {
    const cache = mkdtempSync(join(tmpdir(), `tf-bench-cache-${dtype}-`));
    const t0 = performance.now();
    const p = await runPrepare({ inputs: [defaultTrainCorpus], encoder: a.model, encoderDevice: device, encoderThreads: 2, out: cache, featureDtype: dtype, maxLength, limit: records, progress: false, workers: 1 }, silentLogger());
    const prepSec = (performance.now() - t0) / 1000;
    const out = mkdtempSync(join(tmpdir(), 'tf-bench-cached-'));
    const r = await runTrain({ ...base, inputs: [cache], out }, silentLogger());
    console.log(`| feature cache, ${dtype} (${p.emitted} records; prepare took ${prepSec.toFixed(0)} s with 2 threads; ${p.features?.bytesPerRecord} bytes/record = ${((p.features?.bytesPerRecord ?? 0) / 1000).toFixed(2)} GB per million) | – | ${r.stepsPerSec} | ${Math.round(r.stepsPerSec * 64)} |`);
    rmSync(out, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
  console.log(`\nload average at the end: ${load()}`);
}
