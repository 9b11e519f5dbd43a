// Training speed: steps/s of the train step alone (batches prepared first) and of the whole `train` loop, on the
// bundled banking77 train split, bag encoder, 128-d, head 256→128, P×K = 16×4, max length 32 — the reference
// setup (an independent PyTorch implementation ran 73–78 steps/s here with 2 threads).
// The train-step paths run side by side in one process, alternating step by step, so that they see the same machine
// load: this code's tf path and host path, and with --compare-with DIR the Trainer of another checkout (e.g. main).
// use: npx tsx bench/train/steps.ts [--steps 300] [--backend wasm] [--no-loop] [--compare-with DIR] [--loop-rounds 1]
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { selectBackend, type BackendChoice } from '../../pipeline/backend.js';
import { RunContext } from '../../pipeline/context.js';
import { buildDataGraph } from '../../pipeline/data-graph.js';
import { silentLogger } from '../../pipeline/logger.js';
import { defaultTrainCorpus } from '../../pipeline/paths.js';
import { pullOne } from '../../pipeline/stage.js';
import { runTrain } from '../../pipeline/train.js';
import type { Batch } from '../../schemas/batch.js';
import type { MinerSpec } from '../../schemas/triplets.js';
import { balanceBatches } from '../../stages/balance-batches.js';
import { EmbeddingModel } from '../../stages/metric/model/embedding-model.js';
import { Trainer } from '../../stages/train-step.js';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    backend: { type: 'string', default: 'wasm' },
    'no-loop': { type: 'boolean', default: false },
    'compare-with': { type: 'string' },
    'loop-rounds': { type: 'string', default: '1' },
  },
});
const steps = Number(a.steps);
const backend = await selectBackend(a.backend as BackendChoice);
const ctx = new RunContext({ seed: 0, logger: silentLogger() });
const data = await buildDataGraph(ctx, { inputs: [defaultTrainCorpus], maxLength: 32, workers: 0 });
const s = data.graph.stream().through(balanceBatches(ctx, { classesPerBatch: 16, samplesPerClass: 4 }));
const batches: Batch[] = [];
for (let r = await pullOne(s); !r.done && batches.length < 100; r = await pullOne(s)) batches.push(r.value);
s.destroy();
await ctx.close();

type RunTrain = typeof runTrain;
/** The whole training loop of each checkout: this one, and the other one's with --compare-with. */
const loops: Array<{ name: string; run: RunTrain }> = [{ name: 'this checkout', run: runTrain }];
/** A model and its trainer, as far as the benchmark needs them (another checkout's classes fit too). */
interface Path {
  readonly name: string;
  make(): { step(b: Batch, m: MinerSpec): unknown; dispose(): void };
}
const opts = { learningRate: 1e-3, tokenLearningRate: 3e-2 };
const paths: Path[] = [];
if (a['compare-with']) {
  // the other checkout's own model and trainer classes; its node_modules must resolve to the same tfjs (a symlink)
  const dir = resolve(a['compare-with']);
  const other = async (p: string) => import(pathToFileURL(join(dir, p)).href);
  const { EmbeddingModel: M } = await other('stages/metric/model/embedding-model.ts');
  const { Trainer: T } = await other('stages/train-step.ts');
  loops.push({ name: `${a['compare-with']} (before)`, run: (await other('pipeline/train.ts')).runTrain as RunTrain });
  // both checkouts number their models' tf variables from 0 in one tf engine: move the other's numbers out of the way
  for (let i = 0; i < 100; i++) M.create({ vocabSize: 2, embeddingDim: 1, head: [1] }, 0).dispose();
  paths.push({
    name: `${a['compare-with']} (before)`,
    make: () => {
      const model = M.create({ vocabSize: 30522 }, 0);
      const trainer = new T(model, opts);
      return { step: (b, m) => trainer.step(b, m), dispose: () => { trainer.optimizer?.dispose?.(); model.dispose(); } };
    },
  });
}
for (const hostStep of [false, true]) {
  paths.push({
    name: hostStep ? 'host path (default on wasm/cpu)' : 'tf path (variableGrads, Adam as tf kernels)',
    make: () => {
      const model = EmbeddingModel.create({ vocabSize: 30522 }, 0);
      const trainer = new Trainer(model, { ...opts, hostStep });
      return { step: (b, m) => trainer.step(b, m), dispose: () => { trainer.dispose(); model.dispose(); } };
    },
  });
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const miners: MinerSpec[] = [
  { name: 'batch-hard', positive: 'hardest', negative: 'hardest', tfMasked: false },
  { name: 'semi-hard', fallback: 'hardest', bounded: true, tfMasked: false },
];
console.log(`backend ${backend.backend}; ${batches.length} distinct 16×4 batches of banking77, ${steps} timed steps per path after 30 warm-up steps; the paths alternate step by step`);
// CPU time (process.cpuUsage: user + system, all threads) is what a step costs whatever else runs on the machine
console.log('| measured | miner | median ms/step | steps/s (1000 / median) | vs first row | median CPU ms/step | vs first row (CPU) |');
console.log('|---|---|---|---|---|---|---|');
for (const miner of miners) {
  const runs = paths.map((p) => ({ ...p, run: p.make(), ms: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < steps + 30; i++) {
    for (const r of runs) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      r.run.step(batches[i % batches.length] as Batch, miner);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (i >= 30) {
        r.ms.push(ms);
        r.cpu.push((c.user + c.system) / 1000);
      }
    }
  }
  const base = median(runs[0]?.ms ?? []);
  const baseCpu = median(runs[0]?.cpu ?? []);
  for (const r of runs) {
    const m = median(r.ms);
    const c = median(r.cpu);
    console.log(`| train step alone, ${r.name} | ${miner.name} | ${m.toFixed(2)} | ${(1000 / m).toFixed(1)} | ${(base / m).toFixed(2)}× | ${c.toFixed(2)} | ${(baseCpu / c).toFixed(2)}× |`);
    r.run.dispose();
  }
}
// the loops run one after the other, alternating checkouts for --loop-rounds rounds
for (const miner of a['no-loop'] ? [] : ['batch-hard', 'semi-hard']) {
  for (let round = 0; round < Number(a['loop-rounds']); round++) {
    for (const l of loops) {
      const r = await l.run({ inputs: [defaultTrainCorpus], eval: [], miner, steps, out: `/tmp/tripletflow-bench-${miner}`, progress: false, backend: a.backend as BackendChoice, workers: 0 }, silentLogger());
      console.log(`| whole \`train\` loop (data, batching, step, logging, a checkpoint every 500 steps; no eval), ${l.name} | ${miner} | ${(1000 / r.stepsPerSec).toFixed(1)} (mean) | ${r.stepsPerSec} | | | |`);
    }
  }
}
