import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EvalCaseSchema, TripletCaseSchema, type EvalCase, type TripletCase } from '../../schemas/oracle-case.js';
import type { TripletLossOptionsInput } from '../../schemas/triplets.js';
import { Rng } from '../rng.js';
import { matrixFromRows, matrixToRows, type Matrix } from '../../stages/metric/matrix.js';
import { PEER_NAMES, PEER_RECIPES } from '../../stages/metric/peers.js';
import { retrievalMetrics } from '../../stages/metric/retrieval/retrieval-metrics.js';
import { sortedTriplets } from '../../stages/metric/triplets.js';
import { tripletLoss, type TripletLossResult } from '../../stages/metric/triplet-loss.js';

/** Options of `tripletflow loss`. Unset fields take the case's margin/squared/normalize, then the library defaults. */
export interface LossCommandOptions {
  /** Path of a triplet case JSON (`{case: {...}}` or the case object itself). */
  readonly input: string;
  /** Print every peer entry (`st_*`, `pml_*`) plus `distance`. */
  readonly all?: boolean;
  /** Miner name: semi-hard (default), hard-negative, batch-hard, batch-all, random, threshold. */
  readonly miner?: string;
  /** semi-hard: hardest (default) | easiest | skip. */
  readonly fallback?: string;
  /** semi-hard: false drops the upper bound d_an < d_ap + margin (TF-Addons / ST). Default true. */
  readonly bounded?: boolean;
  /** batch-hard: hardest (default) | easiest. */
  readonly positive?: string;
  /** batch-hard: hardest (default) | semi-hard. */
  readonly negative?: string;
  /** threshold: all (default) | hard | semihard | easy. */
  readonly type?: string;
  /** semi-hard, batch-hard: TF-Addons / ST masked reductions (default false). */
  readonly tfMasked?: boolean;
  /** mean | avg-non-zero (default) | sum. */
  readonly reducer?: string;
  /** margin (default) | soft-margin. */
  readonly loss?: string;
  /** zero (default) | nan. */
  readonly emptyBatch?: string;
  /** euclidean (default) | cosine. */
  readonly distance?: string;
  /** Slope of the margin loss exactly at its hinge: 0 (default, PML), 1 (ST batch-all/-hard), 0.5 (ST semi-hard). */
  readonly hingeGradient?: number;
  /** Margin α in distance units; default: the case's, else 0.2. */
  readonly margin?: number;
  /** Squared Euclidean; default: the case's, else true. */
  readonly squared?: boolean;
  /** L2-normalise first; default: the case's, else true. */
  readonly normalize?: boolean;
  /** Seed of the random miner (default 0). */
  readonly seed?: number;
}

/** Options of `tripletflow metrics`. */
export interface MetricsCommandOptions {
  /** Path of an eval case JSON (`{case: {...}}` or the case object itself). */
  readonly input: string;
}

function readCase(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`--input ${path}: cannot read the file (${(e as Error).message})`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`--input ${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  return typeof json === 'object' && json !== null && 'case' in json ? (json as { case: unknown }).case : json;
}

function parseCase<T>(path: string, schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }): T {
  const r = schema.safeParse(readCase(path));
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`--input ${path}: ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message ?? 'invalid case'}`);
  }
  return r.data;
}

/** JSON-safe numbers: non-finite values as the strings "NaN", "Infinity", "-Infinity" (the oracle's convention). */
export function jsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function entry(r: TripletLossResult, x: Matrix): Record<string, unknown> {
  const grad = r.grad ? matrixToRows({ data: r.grad, rows: x.rows, cols: x.cols }).map((row) => row.map(jsonNumber)) : null;
  return {
    loss: jsonNumber(r.loss),
    grad,
    numTriplets: r.triplets.anchor.length,
    numNonzero: r.numNonzero,
    triplets: sortedTriplets(r.triplets),
    counts: r.counts,
  };
}

function distanceRows(r: TripletLossResult): number[][] {
  const b = r.distances.size;
  return Array.from({ length: b }, (_, i) => Array.from({ length: b }, (_, j) => r.distances.value(i, j)));
}


/**
 * `tripletflow loss`: the triplet loss of a case. With `all`, one entry per peer definition (keyed `st_*`/`pml_*`,
 * each `{loss, grad, numTriplets, numNonzero, triplets}`) plus `distance`; otherwise one entry for the options given.
 */
export function runLossCommand(opts: LossCommandOptions): Record<string, unknown> {
  const c: TripletCase = parseCase(opts.input, TripletCaseSchema);
  const x = matrixFromRows(c.embeddings, c.dtype);
  const base = {
    margin: opts.margin ?? c.margin,
    squared: opts.squared ?? c.squared,
    normalize: opts.normalize ?? c.normalize,
  };
  if (opts.all) {
    const out: Record<string, unknown> = {};
    let last: TripletLossResult | undefined;
    for (const name of PEER_NAMES) {
      last = tripletLoss({ ...base, ...PEER_RECIPES[name].options }).compute(x, c.labels);
      out[name] = entry(last, x);
    }
    if (last) out.distance = distanceRows(last);
    return out;
  }
  const miner = { name: opts.miner ?? 'semi-hard' } as Record<string, unknown>;
  if (opts.fallback !== undefined) miner.fallback = opts.fallback;
  if (opts.bounded !== undefined) miner.bounded = opts.bounded;
  if (opts.positive !== undefined) miner.positive = opts.positive;
  if (opts.negative !== undefined) miner.negative = opts.negative;
  if (opts.type !== undefined) miner.type = opts.type;
  if (opts.tfMasked !== undefined) miner.tfMasked = opts.tfMasked;
  const options = {
    ...base,
    miner,
    ...(opts.loss !== undefined && { loss: opts.loss }),
    ...(opts.reducer !== undefined && { reducer: opts.reducer }),
    ...(opts.emptyBatch !== undefined && { emptyBatch: opts.emptyBatch }),
    ...(opts.distance !== undefined && { distance: opts.distance }),
    ...(opts.hingeGradient !== undefined && { hingeGradient: opts.hingeGradient }),
  } as TripletLossOptionsInput;
  const fn = tripletLoss(options, { rng: seededUniform(opts.seed ?? 0) });
  const r = fn.compute(x, c.labels);
  return { ...entry(r, x), distance: distanceRows(r), options: fn.options };
}

/** `tripletflow metrics`: `{precision_at_1, r_precision, mean_average_precision_at_r}` of an eval case. */
export function runMetricsCommand(opts: MetricsCommandOptions): Record<string, unknown> {
  const c: EvalCase = parseCase(opts.input, EvalCaseSchema);
  const dtype = 'float64';
  const m = retrievalMetrics({
    query: matrixFromRows(c.query, dtype),
    queryLabels: c.query_labels,
    reference: c.reference ? matrixFromRows(c.reference, dtype) : null,
    referenceLabels: c.reference_labels,
    normalize: c.normalize,
    squared: c.squared,
  });
  return {
    precision_at_1: jsonNumber(m.precision_at_1),
    r_precision: jsonNumber(m.r_precision),
    mean_average_precision_at_r: jsonNumber(m.mean_average_precision_at_r),
    numQueries: m.numQueries,
    numExcluded: m.numExcluded,
  };
}

const parseNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
};
const parseBool = (v: string): boolean => {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgumentError(`expected true or false, got "${v}"`);
};

/** Adds the `loss` and `metrics` subcommands to `program`; each prints one JSON object to stdout. */
export function registerMetricCommands(program: Command): Command {
  program
    .command('loss')
    .description('triplet loss, gradient and mined triplets of a case file (oracle format); --all: every peer definition')
    .requiredOption('--input <file>', 'triplet case JSON')
    .option('--all', 'print every peer entry (st_*, pml_*) and the distance matrix')
    .addOption(new Option('--miner <name>', 'miner').choices(['semi-hard', 'hard-negative', 'batch-hard', 'batch-all', 'random', 'threshold']))
    .addOption(new Option('--fallback <kind>', 'semi-hard: pair without a semi-hard negative').choices(['hardest', 'easiest', 'skip']))
    .option('--bounded <bool>', 'semi-hard: keep the upper bound d_an < d_ap + margin (default true)', parseBool)
    .addOption(new Option('--positive <kind>', 'batch-hard positive').choices(['hardest', 'easiest']))
    .addOption(new Option('--negative <kind>', 'batch-hard negative').choices(['hardest', 'semi-hard']))
    .addOption(new Option('--type <kind>', 'threshold miner type').choices(['all', 'hard', 'semihard', 'easy']))
    .option('--tf-masked <bool>', 'semi-hard / batch-hard: TF-Addons / ST masked reductions (keep incomplete anchors, TF tie rules)', parseBool)
    .addOption(new Option('--reducer <name>', 'reducer').choices(['mean', 'avg-non-zero', 'sum']))
    .addOption(new Option('--loss <name>', 'per-triplet loss').choices(['margin', 'soft-margin']))
    .addOption(new Option('--empty-batch <value>', 'loss of a batch with nothing to average').choices(['zero', 'nan']))
    .addOption(new Option('--distance <name>', 'distance').choices(['euclidean', 'cosine']))
    .option('--margin <alpha>', 'margin α (distance units); default: the case\'s', parseNumber)
    .option('--squared <bool>', 'squared Euclidean; default: the case\'s', parseBool)
    .option('--normalize <bool>', 'L2-normalise first; default: the case\'s', parseBool)
    .option('--hinge-gradient <slope>', 'margin-loss slope exactly at the hinge: 0 (PML), 1 (ST batch-all/-hard), 0.5 (ST semi-hard)', parseNumber)
    .option('--seed <n>', 'seed of the random miner', parseNumber)
    .action((o: LossCommandOptions) => {
      process.stdout.write(`${JSON.stringify(runLossCommand(o))}\n`);
    });
  program
    .command('metrics')
    .description('precision@1, R-precision and MAP@R of an eval case file (oracle format)')
    .requiredOption('--input <file>', 'eval case JSON')
    .action((o: MetricsCommandOptions) => {
      process.stdout.write(`${JSON.stringify(runMetricsCommand(o))}\n`);
    });
  return program;
}

/** Seeded uniform [0, 1) generator for the CLI's random miner, from the project's Rng. */
function seededUniform(seed: number): () => number {
  const r = Rng.derive(seed, 'loss-cli');
  return () => r.next();
}
