/**
 * bench/metric: tripletflow's triplet loss (forward + backward) vs PyTorch (sentence-transformers' formulas), one
 * thread each, same batches, same run. Prints a table of medians and ratios (ours / PyTorch).
 * Usage: npx tsx bench/metric/compare.ts [--repeats 7] [--sizes 500,1000,2000] [--dims 128,384] [--backend wasm|cpu]
 */
import { Rng } from '../../pipeline/rng.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { TripletLossOptionsInput } from '../../schemas/triplets.js';
import { tfTripletLoss } from '../../stages/metric/tf-triplet-loss.js';
import { flag } from '../flag.js';

const repeats = Number(flag('repeats', '7'));
const sizes = flag('sizes', '500,1000,2000').split(',').map(Number);
const dims = flag('dims', '128,384').split(',').map(Number);
const backend = flag('backend', 'wasm');
const samplesPerClass = Number(flag('k', '4'));

function rng(seed: number): () => number {
  const r = Rng.derive(seed, 'bench');
  return () => r.next();
}

/** Clustered PK batch: classes of `samplesPerClass` around random centres, so all miners have work. */
function makeBatch(b: number, d: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const x = new Float32Array(b * d);
  const labels = new Int32Array(b);
  const centres = new Map<number, Float32Array>();
  for (let i = 0; i < b; i++) {
    const c = Math.floor(i / samplesPerClass);
    labels[i] = c;
    let centre = centres.get(c);
    if (!centre) {
      centre = Float32Array.from({ length: d }, gauss);
      centres.set(c, centre);
    }
    for (let k = 0; k < d; k++) x[i * d + k] = (centre[k] as number) + 1.5 * gauss();
  }
  return { x, labels };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const configs: { name: string; torch: string; options: TripletLossOptionsInput }[] = [
  { name: 'batch-hard', torch: 'batch-hard', options: { miner: { name: 'batch-hard' }, reducer: 'mean' } },
  { name: 'semi-hard (FaceNet, fallback hardest)', torch: 'semi-hard', options: { miner: { name: 'semi-hard' } } },
  {
    name: 'semi-hard (ST/TFA options)',
    torch: 'semi-hard',
    options: {
      miner: { name: 'semi-hard', bounded: false, fallback: 'easiest', tfMasked: true },
      reducer: 'mean', emptyBatch: 'nan', hingeGradient: 0.5,
    },
  },
];

async function main(): Promise<void> {
  if (backend === 'wasm') setThreadsCount(1);
  await tf.setBackend(backend);
  await tf.ready();
  const dir = mkdtempSync(join(tmpdir(), 'tf-metric-bench-'));
  const cases: { B: number; D: number; file: string; labels: string; x: Float32Array; y: Int32Array }[] = [];
  for (const b of sizes) for (const d of dims) {
    const { x, labels } = makeBatch(b, d, b * 1000 + d);
    const file = `x_${b}_${d}.f32`, lab = `y_${b}_${d}.i32`;
    writeFileSync(join(dir, file), Buffer.from(x.buffer));
    writeFileSync(join(dir, lab), Buffer.from(labels.buffer));
    cases.push({ B: b, D: d, file, labels: lab, x, y: labels });
  }
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ cases: cases.map(({ B, D, file, labels }) => ({ B, D, file, labels })) }));

  const py = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'torch_bench.py'), dir, String(repeats)], {
    encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }, maxBuffer: 1 << 24,
  });
  if (py.status !== 0) throw new Error(`torch_bench.py failed (status ${py.status}, signal ${py.signal}): ${py.stderr}`);
  const torchRows = py.stdout.trim().split('\n').map((l) => JSON.parse(l) as { miner: string; B: number; D: number; median_ms: number; loss: number });

  const rows: string[] = [];
  rows.push(`| config | B | D | tripletflow (${backend}, 1 thread) ms | PyTorch ST ms | ratio | loss (ours / torch) |`);
  rows.push('|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const xt = tf.tensor2d(c.x, [c.B, c.D]);
    for (const cfg of configs) {
      const tl = tfTripletLoss({ margin: 0.2, squared: true, normalize: true, ...cfg.options });
      const g = tf.grad((x: tf.Tensor) => tl.loss(x as tf.Tensor2D, c.y));
      const times: number[] = [];
      let loss = NaN;
      const start = tf.memory().numTensors;
      for (let r = 0; r < repeats + 1; r++) {
        const t0 = performance.now();
        const grad = g(xt);
        grad.dataSync();
        times.push(performance.now() - t0);
        grad.dispose();
        loss = tl.last?.loss ?? NaN;
      }
      if (tf.memory().numTensors !== start) throw new Error('tensor leak in benchmark loop');
      const ours = median(times.slice(1));
      const t = torchRows.find((r) => r.miner === cfg.torch && r.B === c.B && r.D === c.D);
      rows.push(`| ${cfg.name} | ${c.B} | ${c.D} | ${ours.toFixed(1)} | ${t ? t.median_ms.toFixed(1) : '-'} | ${t ? (ours / t.median_ms).toFixed(2) : '-'} | ${loss.toFixed(6)} / ${t ? t.loss.toFixed(6) : '-'} |`);
      console.error(rows[rows.length - 1]);
    }
    xt.dispose();
  }
  console.log(rows.join('\n'));
}

await main();
