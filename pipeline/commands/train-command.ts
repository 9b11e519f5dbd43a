import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FatalError } from '../errors.js';
import { runTrain } from '../train.js';
import { addDataOptions, choiceArg, dataOptionsFrom, intArg, numberArg } from './data-options.js';
import type { TrainConfigInput } from '../../schemas/train-config.js';

const listArg = (v: string) => v.split(',').map((x) => Number(x.trim()));

/** Reads a YAML or JSON run config; flags given on the command line override it. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FatalError(`--config ${path}: ${(e as Error).message}`, { file: path, cause: e });
  }
  try {
    const v = parseYaml(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a mapping of option: value');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new FatalError(`--config ${path}: not valid YAML/JSON (${(e as Error).message})`, { file: path, cause: e });
  }
}

/** Adds `tripletflow train`. */
export function registerTrainCommand(program: Command, setExitCode: (code: number) => void): void {
  const cmd = addDataOptions(program.command('train').description('train an embedding model with online-mined triplet loss'))
    .option('--config <file>', 'run config (YAML or JSON); flags override it')
    .option('--train <path>', 'training shards (same as --input; repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--eval <path>', 'held-out file(s) for evaluation (repeatable; default: banking77 test with the bundled corpus)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--eval-every <n>', 'evaluate every N steps (0: before and after only)', intArg('--eval-every'))
    .option('--eval-limit <n>', 'most evaluation records held in memory', intArg('--eval-limit'))
    .option('--eval-unseen-labels', 'allow an eval set whose labels never appear in training (held-out classes)')
    .option('--steps <n>', 'optimisation steps', intArg('--steps'))
    .option('--out <dir>', 'output directory (run.json, metrics.jsonl, eval.json, model/, quarantine.jsonl)')
    .option('--classes <P>', 'classes per batch (first phase)', intArg('--classes'))
    .option('--per-class <K>', 'samples per class', intArg('--per-class'))
    .option('--miner <name>', 'one miner throughout: semi-hard, semi-hard/easiest, hard-negative, batch-hard, batch-all, random, threshold/semihard, ...')
    .option('--curriculum <spec>', 'phases step:miner:PxK, e.g. 0:semi-hard:16x4,1000:batch-hard:32x4[,auto]')
    .option('--margin <alpha>', 'margin α on squared distances', numberArg('--margin'))
    .option('--lr <rate>', 'Adam learning rate', numberArg('--lr'))
    .option('--token-lr <rate>', 'Adam learning rate of the token embedding table (default: 30 × --lr)', numberArg('--token-lr'))
    .option('--weight-decay <w>', 'decoupled weight decay', numberArg('--weight-decay'))
    .option('--clip-norm <n>', 'clip the global gradient norm', numberArg('--clip-norm'))
    .option('--encoder <kind>', 'bag | transformer | pretrained (a frozen local ONNX model, see --encoder-model)')
    .option('--encoder-model <dir>', 'pretrained: local Hugging Face model directory (config.json, tokenizer.json, onnx/model.onnx)')
    .option('--encoder-device <device>', 'pretrained: cpu | cuda (cuda needs onnxruntime-node\'s CUDA provider; never falls back to cpu)')
    .option('--pooling <how>', 'pretrained/transformer: mean | cls')
    .option('--encoder-batch-size <n>', 'pretrained: documents per encoder run (default 64)', intArg('--encoder-batch-size'))
    .option('--encoder-prefetch <n>', 'pretrained: encoder batches in flight ahead of the trainer (default 2)', intArg('--encoder-prefetch'))
    .option('--encoder-threads <n>', 'pretrained: ONNX Runtime intra-op threads, 0 = every core (default 1)', intArg('--encoder-threads'))
    .option('--embedding-dim <n>', 'token embedding size', intArg('--embedding-dim'))
    .option('--head <sizes>', 'fully connected head sizes, e.g. 256,128', listArg)
    .option('--no-normalize', 'do not L2-normalise the embeddings')
    .option('--output-activation <a>', 'none | softmax (not advised)')
    .option('--layers <n>', 'transformer layers', intArg('--layers'))
    .option('--heads <n>', 'transformer attention heads', intArg('--heads'))
    .option('--backend <name>', 'auto | tensorflow-gpu | tensorflow | wasm | cpu')
    .option('--log-every <n>', 'write a metrics line every N steps', intArg('--log-every'))
    .option('--collapse-window <n>', 'steps the collapse condition must hold', intArg('--collapse-window'))
    .option('--stop-on-collapse', 'stop with exit code 3 when the collapse detector fires')
    .option('--max-reject-rate <r>', 'exit 2 when quarantined / read exceeds this fraction', numberArg('--max-reject-rate'))
    .option('--overflow-entries <how>', 'per-record | per-class: quarantine entries for records the class pools could not keep (pool_overflow)', choiceArg('--overflow-entries', ['per-record', 'per-class']))
    .option('--no-progress', 'no progress bar')
    .option('--resume <dir>', 'continue the run in DIR from its newest valid checkpoint (a new run there when it has none)')
    .option('--checkpoint-every <n>', 'write a checkpoint every N steps (0: only when the run stops); default 500', intArg('--checkpoint-every'))
    .option('--keep-checkpoints <k>', 'checkpoints kept; default 3', intArg('--keep-checkpoints'))
    .option('--max-duration <d>', 'stop resumably after this long: 6h, 90m, 1h30m or seconds')
    .option('--until <HH:MM>', 'stop resumably when the local clock reaches HH:MM')
    .option('--no-report', 'do not refresh report.html at checkpoints and at the end')
    .option('--record <dir>', 'record the batch stream (ids, labels, token ids, phase per step) as parquet shards');
  cmd.action(async (o: Record<string, unknown>) => {
    const file = o.config ? readConfigFile(o.config as string) : {};
    // flags the user typed override the file; commander defaults do not
    const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
    const fromFlags: Record<string, unknown> = {};
    const data = dataOptionsFrom(o) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) if (given(k === 'inputs' ? 'input' : k) || !(k in file)) fromFlags[k] = v;
    if (!given('maxLength') && !('maxLength' in file)) delete fromFlags.maxLength;
    if (o.train) fromFlags.inputs = [...((given('input') ? data.inputs : []) as string[]), ...(o.train as string[])];
    for (const k of ['eval', 'evalEvery', 'evalLimit', 'evalUnseenLabels', 'steps', 'out', 'classes', 'perClass', 'miner', 'curriculum', 'margin', 'lr', 'tokenLr', 'weightDecay', 'clipNorm', 'encoder', 'encoderModel', 'encoderDevice', 'pooling', 'encoderBatchSize', 'encoderPrefetch', 'encoderThreads', 'embeddingDim', 'head', 'outputActivation', 'layers', 'heads', 'backend', 'logEvery', 'collapseWindow', 'stopOnCollapse', 'maxRejectRate', 'overflowEntries', 'checkpointEvery', 'keepCheckpoints', 'maxDuration', 'until', 'record']) {
      if (o[k] !== undefined) fromFlags[k] = o[k];
    }
    if (given('normalize')) fromFlags.normalize = o.normalize;
    if (given('progress')) fromFlags.progress = o.progress;
    if (given('report')) fromFlags.report = o.report;
    const report = await runTrain({ ...file, ...fromFlags } as TrainConfigInput, { handleSignals: true, ...(o.resume ? { resume: o.resume as string } : {}) });
    const f = report.final;
    const u = report.untrained;
    const fmt = (m: typeof f) => (m ? `MAP@R ${m.mean_average_precision_at_r.toFixed(3)}, P@1 ${m.precision_at_1.toFixed(3)}` : 'n/a');
    process.stderr.write(
      `\ntripletflow train: ${report.status} after ${report.steps} steps in ${report.seconds}s (${report.stepsPerSec} steps/s) on ${report.backend.backend}\n` +
      `  untrained: ${fmt(u)}\n  trained:   ${fmt(f)}\n` +
      `  collapse detector: ${report.collapse.fired ? `fired at step ${report.collapse.atStep}` : 'quiet'}; records read ${report.records.read}, quarantined ${report.records.quarantined}\n` +
      `  outputs in ${report.out}/ (run.json, metrics.jsonl, eval.json, model/, checkpoints/)\n` +
      (report.status === 'resumable' ? `  stopped before step ${report.steps} of ${report.stepsTotal}; continue with: tripletflow train --resume ${report.out}\n` : ''),
    );
    process.stdout.write(`${JSON.stringify({ status: report.status, steps: report.steps, stepsPerSec: report.stepsPerSec, backend: report.backend.backend, untrained: u, final: f, collapse: report.collapse, out: report.out })}\n`);
    setExitCode(report.exitCode);
  });
}
