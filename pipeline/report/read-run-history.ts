import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { FatalError } from '../errors.js';
import { readJsonLines } from './json-lines.js';
import {
  EvalFileSchema, METRIC_FIELDS, RunFileSchema, type EvalPoint, type MetricField, type MetricsColumns, type PhaseSpan,
  type RetrievalScores, type RunHistory, type StageColumns,
} from './run-history.js';

const STAGE_FIELDS = ['records', 'recordsPerSec', 'waitConsumerMs', 'waitProducerMs'] as const;

/** Growable Float64Array columns (doubling), so a long run's metrics never become one object per line. */
class Columns<K extends string> {
  private capacity = 1024;
  readonly data: Record<K, Float64Array>;
  constructor(private readonly keys: readonly K[], private readonly fill = Number.NaN) {
    this.data = Object.fromEntries(keys.map((k) => [k, new Float64Array(this.capacity).fill(fill)])) as Record<K, Float64Array>;
  }
  /** Makes room for row `i`. */
  ensure(i: number): void {
    if (i < this.capacity) return;
    while (this.capacity <= i) this.capacity *= 2;
    for (const k of this.keys) {
      const grown = new Float64Array(this.capacity).fill(this.fill);
      grown.set(this.data[k]);
      this.data[k] = grown;
    }
  }
  /** The first `length` rows of every column. */
  trimmed(length: number): Record<K, Float64Array> {
    return Object.fromEntries(this.keys.map((k) => [k, this.data[k].slice(0, length)])) as Record<K, Float64Array>;
  }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a training run directory (`tripletflow train --out DIR`) into a RunHistory. metrics.jsonl is required and
 * streamed; eval.json, run.json and quarantine.jsonl may be missing (a run in progress), which the history's `notes`
 * say. A cut-off last line of a JSONL file is skipped; a bad line elsewhere is a FatalError naming `file:line`.
 */
export async function readRunHistory(dir: string): Promise<RunHistory> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new FatalError(`${dir}: no such directory; give the --out directory of a training run (tripletflow train --out DIR)`, { file: dir });
  }
  const notes: string[] = [];
  const metricsFile = join(dir, 'metrics.jsonl');
  if (!existsSync(metricsFile)) {
    throw new FatalError(
      `${metricsFile}: not found, so ${dir} is not a training run directory; give the --out directory of ` +
        '`tripletflow train` (it writes metrics.jsonl from the first step on)',
      { file: metricsFile },
    );
  }
  const m = await readMetrics(metricsFile, notes);
  const evalFile = readJsonFile(join(dir, 'eval.json'), EvalFileSchema, notes, 'the run has not finished, or it has no eval set');
  const run = readJsonFile(join(dir, 'run.json'), RunFileSchema, notes, 'the run is in progress or was stopped');

  let quarantineByReason: Record<string, number> | null = run?.quarantineByReason ?? null;
  let quarantineSource: RunHistory['quarantineSource'] = quarantineByReason ? 'run.json' : null;
  const quarantineFile = join(dir, 'quarantine.jsonl');
  // run.json has the counts already; the file may hold millions of records, so it is read only for a run in progress
  if (!quarantineByReason && existsSync(quarantineFile)) {
    quarantineByReason = await countQuarantine(quarantineFile, notes);
    quarantineSource = 'quarantine.jsonl';
  }

  const final = evalFile ? finalScores(evalFile) : null;
  return {
    dir,
    ...m,
    eval: evalFile ? { final, untrained: evalFile.untrained ?? null, history: (evalFile.history ?? []) as EvalPoint[] } : null,
    run,
    quarantineByReason,
    quarantineSource,
    notes,
  };
}

function finalScores(e: z.infer<typeof EvalFileSchema>): RetrievalScores | null {
  const { precision_at_1: p, r_precision: r, mean_average_precision_at_r: map } = e;
  return p !== undefined && r !== undefined && map !== undefined ? { precision_at_1: p, r_precision: r, mean_average_precision_at_r: map } : null;
}

async function readMetrics(file: string, notes: string[]): Promise<Pick<RunHistory, 'metrics' | 'miners' | 'phases' | 'stages'>> {
  const cols = new Columns<MetricField>(METRIC_FIELDS);
  const flags = new Columns<'collapse' | 'minerIndex'>(['collapse', 'minerIndex'], 0);
  const stageCols = new Map<string, Columns<(typeof STAGE_FIELDS)[number]>>();
  const miners: string[] = [];
  const minerIds = new Map<string, number>();
  let n = 0;
  const { truncatedLine } = await readJsonLines(file, (v, line) => {
    if (!isObject(v) || typeof v.step !== 'number') {
      throw new FatalError(
        `${file}:${line}: expected a metrics object with a numeric "step" (got ${JSON.stringify(v).slice(0, 80)}); ` +
          'fix or delete that line, then run the report again',
        { file },
      );
    }
    cols.ensure(n);
    flags.ensure(n);
    for (const k of METRIC_FIELDS) cols.data[k][n] = num(v[k]);
    flags.data.collapse[n] = v.collapse === true ? 1 : 0;
    let id = -1;
    if (typeof v.miner === 'string') {
      id = minerIds.get(v.miner) ?? -1;
      if (id < 0) {
        id = miners.push(v.miner) - 1;
        minerIds.set(v.miner, id);
      }
    }
    flags.data.minerIndex[n] = id;
    if (v.stages !== undefined) readStages(file, line, v.stages, n, stageCols);
    n++;
  });
  if (truncatedLine !== null) {
    notes.push(`metrics.jsonl: line ${truncatedLine}, the last one, is cut off (the run is still writing, or was stopped); it is left out.`);
  }
  if (n === 0) notes.push('metrics.jsonl: no step logged yet.');
  const base = cols.trimmed(n);
  const f = flags.trimmed(n);
  const metrics: MetricsColumns = {
    ...base,
    length: n,
    collapse: Uint8Array.from(f.collapse),
    minerIndex: Int32Array.from(f.minerIndex),
  };
  const stages = new Map<string, StageColumns>();
  for (const [name, c] of stageCols) {
    c.ensure(n);
    stages.set(name, c.trimmed(n));
  }
  return { metrics, miners, phases: phaseSpans(metrics, miners), stages };
}

function readStages(
  file: string, line: number, stages: unknown, row: number, stageCols: Map<string, Columns<(typeof STAGE_FIELDS)[number]>>,
): void {
  if (!isObject(stages)) {
    throw new FatalError(
      `${file}:${line}: "stages" must be an object {stageName: {records, recordsPerSec, waitConsumerMs, waitProducerMs}} ` +
        `(got ${JSON.stringify(stages).slice(0, 80)}); fix or delete that line`,
      { file },
    );
  }
  for (const [name, s] of Object.entries(stages)) {
    if (!isObject(s)) continue;
    let c = stageCols.get(name);
    if (!c) {
      c = new Columns(STAGE_FIELDS);
      stageCols.set(name, c);
    }
    c.ensure(row);
    for (const k of STAGE_FIELDS) c.data[k][row] = num(s[k]);
  }
}

/** Consecutive (phase, miner) spans of the logged lines. */
function phaseSpans(m: MetricsColumns, miners: readonly string[]): PhaseSpan[] {
  const spans: PhaseSpan[] = [];
  let start = 0;
  for (let i = 1; i <= m.length; i++) {
    const ended = i === m.length || !samePhase(m, i, start);
    if (!ended) continue;
    spans.push({
      phase: m.phase[start] as number,
      miner: miners[m.minerIndex[start] as number] ?? '?',
      batchSize: m.batchSize[start] as number,
      fromStep: m.step[start] as number,
      toStep: m.step[i - 1] as number,
      startIndex: start,
      endIndex: i,
    });
    start = i;
  }
  return spans;
}

function samePhase(m: MetricsColumns, i: number, j: number): boolean {
  // NaN phases (lines without the field) compare equal to each other
  return Object.is(m.phase[i], m.phase[j]) && m.minerIndex[i] === m.minerIndex[j];
}

/**
 * Reads one JSON file through a schema. Missing → null with a note; not JSON (cut off mid-write) → null with a note;
 * valid JSON of the wrong shape → FatalError naming the file and the field.
 */
function readJsonFile<S extends z.ZodType>(file: string, schema: S, notes: string[], whyMissing: string): z.infer<S> | null {
  const name = file.split(/[\\/]/).pop() as string;
  if (!existsSync(file)) {
    notes.push(`${name}: missing (${whyMissing}).`);
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw new FatalError(`${file}: cannot read the file (${(e as Error).message})`, { file, cause: e });
    notes.push(`${name}: not complete JSON (${e.message}); it is left out. It is written at the end of a run: rerun the report once the run is done.`);
    return null;
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new FatalError(
      `${file}: ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message ?? 'unexpected shape'}; ` +
        'expected the file `tripletflow train` writes; restore it from the run or delete it',
      { file },
    );
  }
  return r.data as z.infer<S>;
}

async function countQuarantine(file: string, notes: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const { truncatedLine } = await readJsonLines(file, (v, line) => {
    if (!isObject(v) || typeof v.reason !== 'string') {
      throw new FatalError(`${file}:${line}: expected a quarantine record {stage, reason, recordId, message, record}; fix or delete that line`, { file });
    }
    const key = typeof v.stage === 'string' ? `${v.stage}.${v.reason}` : v.reason;
    counts[key] = (counts[key] ?? 0) + 1;
  });
  if (truncatedLine !== null) notes.push(`quarantine.jsonl: line ${truncatedLine}, the last one, is cut off; it is not counted.`);
  return counts;
}

