import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A curriculum phase of a fake run. */
export interface FakePhase {
  readonly fromStep: number;
  readonly miner: string;
  readonly batchSize: number;
}

/** What `fakeRunDir` writes; every file is optional so that partial runs can be built. */
export interface FakeRunOptions {
  /** Steps logged (one line per step from 0). Default 200. */
  readonly steps?: number;
  /** Default: semi-hard 16 from step 0, batch-hard 32 from steps / 2. */
  readonly phases?: readonly FakePhase[];
  /** Stage names to put in each line's `stages` field (with `busyMs` unless `noBusy`), from `stagesFromStep` on; none by default. */
  readonly stages?: readonly string[];
  readonly stagesFromStep?: number;
  /** Leave `busyMs` out of the stage figures (the fields issue #5 first specified). */
  readonly noBusy?: boolean;
  /** Step where `collapse` turns true in the lines and run.json says the detector fired; none by default. */
  readonly collapseAt?: number;
  /** Write eval.json (default true). */
  readonly eval?: boolean;
  /** Write run.json (default true). */
  readonly run?: boolean;
  /** Quarantine records as [stage, reason, count]; default one reason. */
  readonly quarantine?: ReadonlyArray<readonly [string, string, number]>;
  /** Raw text appended to metrics.jsonl after the lines (e.g. a cut-off line). */
  readonly metricsTail?: string;
}

/** A metrics.jsonl line shaped as `runTrain` writes it, with deterministic values (a decaying loss with a spike at step 7). */
export function fakeMetricsLine(step: number, opts: FakeRunOptions = {}): Record<string, unknown> {
  const steps = opts.steps ?? 200;
  const phases = opts.phases ?? defaultPhases(steps);
  let phase = 0;
  for (let i = 0; i < phases.length; i++) if (step >= (phases[i] as FakePhase).fromStep) phase = i;
  const p = phases[phase] as FakePhase;
  const decay = Math.exp(-step / Math.max(1, steps / 4));
  const collapsed = opts.collapseAt !== undefined && step >= opts.collapseAt;
  const line: Record<string, unknown> = {
    step,
    epoch: Math.floor(step / 1000),
    miner: p.miner,
    batchSize: p.batchSize,
    loss: step === 7 ? 5 : 0.1 + 0.3 * decay + 0.01 * Math.sin(step),
    activeFraction: 0.2 + 0.7 * decay,
    numTriplets: p.batchSize * 3,
    gradNorm: null,
    hardestLoss: 0.2 + 0.4 * decay,
    meanPos: 0.5 - 0.2 * (1 - decay),
    meanNeg: 0.8 + 0.3 * (1 - decay),
    spread: collapsed ? 0.001 : 1 + 0.5 * Math.cos(step / 10),
    ms: 20 + (step % 5),
    phase,
    collapse: collapsed,
    recordsSeen: (step + 1) * p.batchSize,
  };
  if (opts.stages && step >= (opts.stagesFromStep ?? 0)) {
    line.stages = Object.fromEntries(opts.stages.map((name, i) => [name, {
      records: (step + 1) * 64,
      recordsPerSec: step % 10 === 5 ? 0 : 1000 * (i + 1) + (step % 10),
      waitConsumerMs: step * (i + 1),
      waitProducerMs: step * 0.5,
      ...(opts.noBusy ? {} : { busyMs: step * 2 * (i + 1) }),
    }]));
  }
  return line;
}

function defaultPhases(steps: number): FakePhase[] {
  return [{ fromStep: 0, miner: 'semi-hard', batchSize: 16 }, { fromStep: Math.floor(steps / 2), miner: 'batch-hard', batchSize: 32 }];
}

/** Writes a fake training run directory (metrics.jsonl, eval.json, run.json, quarantine.jsonl) and returns its path. */
export function fakeRunDir(opts: FakeRunOptions = {}, dir = mkdtempSync(join(tmpdir(), 'tf-report-'))): string {
  mkdirSync(dir, { recursive: true });
  const steps = opts.steps ?? 200;
  const parts: string[] = [];
  for (let s = 0; s < steps; s++) parts.push(JSON.stringify(fakeMetricsLine(s, opts)));
  writeFileSync(join(dir, 'metrics.jsonl'), (parts.length > 0 ? `${parts.join('\n')}\n` : '') + (opts.metricsTail ?? ''));
  const quarantine = opts.quarantine ?? [['balance-batches', 'pool_overflow', 3]];
  const qLines: string[] = [];
  for (const [stage, reason, n] of quarantine) {
    for (let i = 0; i < n; i++) qLines.push(JSON.stringify({ stage, reason, recordId: `${reason}-${i}`, message: reason, record: { id: `${reason}-${i}` } }));
  }
  writeFileSync(join(dir, 'quarantine.jsonl'), qLines.map((l) => `${l}\n`).join(''));
  const untrained = { precision_at_1: 0.48, r_precision: 0.14, mean_average_precision_at_r: 0.07 };
  const final = { precision_at_1: 0.83, r_precision: 0.61, mean_average_precision_at_r: 0.52 };
  if (opts.eval ?? true) {
    const history = [
      { step: Math.floor(steps / 2), precision_at_1: 0.7, r_precision: 0.4, mean_average_precision_at_r: 0.3 },
      { step: steps, ...final },
    ];
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ ...final, untrained, history }, null, 2));
  }
  if (opts.run ?? true) {
    const quarantineByReason = Object.fromEntries(quarantine.map(([stage, reason, n]) => [`${stage}.${reason}`, n]));
    const quarantined = quarantine.reduce((s, [, , n]) => s + n, 0);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({
      status: opts.collapseAt !== undefined ? 'collapsed' : 'done',
      exitCode: 0,
      steps,
      seconds: 12.5,
      stepsPerSec: 16,
      backend: { backend: 'cpu', tfBackend: 'cpu', skipped: [] },
      curriculum: 'fake',
      collapse: { fired: opts.collapseAt !== undefined, atStep: opts.collapseAt ?? null },
      untrained,
      final,
      records: { read: 1000, trained: 900, quarantined, reused: 0, carriedDuplicates: 50, waitingAtStop: 50 - quarantined },
      quarantineByReason,
      peakRssMb: 321,
      config: { seed: 0 },
    }, null, 2));
  }
  return dir;
}
