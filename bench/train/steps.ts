// Training speed: steps/s of the train step alone (batches prepared first) and of the whole `train` loop, on the
// bundled banking77 train split, bag encoder, 128-d, head 256→128, P×K = 16×4, max length 32 — the reference
// setup (an independent PyTorch implementation ran 73–78 steps/s here with 2 threads).
// use: npx tsx bench/train/steps.ts [--steps 300] [--backend wasm]
import { parseArgs } from 'node:util';
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

const { values: a } = parseArgs({ options: { steps: { type: 'string', default: '300' }, backend: { type: 'string', default: 'wasm' } } });
const steps = Number(a.steps);
const backend = await selectBackend(a.backend as BackendChoice);
const ctx = new RunContext({ seed: 0, logger: silentLogger() });
const data = await buildDataGraph(ctx, { inputs: [defaultTrainCorpus], maxLength: 32, workers: 0 });
const s = data.graph.stream().through(balanceBatches(ctx, { classesPerBatch: 16, samplesPerClass: 4 }));
const batches: Batch[] = [];
for (let r = await pullOne(s); !r.done && batches.length < 100; r = await pullOne(s)) batches.push(r.value);
s.destroy();
await ctx.close();

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const miners: MinerSpec[] = [
  { name: 'batch-hard', positive: 'hardest', negative: 'hardest', tfMasked: false },
  { name: 'semi-hard', fallback: 'hardest', bounded: true, tfMasked: false },
];
console.log(`backend ${backend.backend}; ${batches.length} distinct 16×4 batches of banking77, ${steps} timed steps each after 30 warm-up steps`);
console.log('| measured | miner | median ms/step | steps/s (1000 / median) |');
console.log('|---|---|---|---|');
for (const miner of miners) {
  const model = EmbeddingModel.create({ vocabSize: 30522 }, 0);
  const trainer = new Trainer(model, { learningRate: 1e-3, tokenLearningRate: 3e-2 });
  const ms: number[] = [];
  for (let i = 0; i < steps + 30; i++) {
    const t0 = performance.now();
    trainer.step(batches[i % batches.length] as Batch, miner);
    if (i >= 30) ms.push(performance.now() - t0);
  }
  console.log(`| train step alone | ${miner.name} | ${median(ms).toFixed(1)} | ${(1000 / median(ms)).toFixed(1)} |`);
  model.dispose();
}
for (const miner of ['batch-hard', 'semi-hard']) {
  const r = await runTrain({ inputs: [defaultTrainCorpus], eval: [], miner, steps, out: `/tmp/tripletflow-bench-${miner}`, progress: false, backend: a.backend as BackendChoice, workers: 0 }, silentLogger());
  console.log(`| whole \`train\` loop (data, batching, step, logging; no eval) | ${miner} | ${(1000 / r.stepsPerSec).toFixed(1)} (mean) | ${r.stepsPerSec} |`);
}
