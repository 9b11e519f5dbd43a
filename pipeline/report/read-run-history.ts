import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { FatalError } from '../errors.js';
import { MetricsReader } from './metrics-reader.js';
import { QuarantineCounter } from './quarantine-counter.js';
import { EvalFileSchema, RunFileSchema, type EvalPoint, type RetrievalScores, type RunHistory } from './run-history.js';

/** The incremental readers of one run directory. */
interface DirReaders {
  readonly metrics: MetricsReader;
  readonly quarantine: QuarantineCounter;
}
/** Readers of the run directories read lately, so that a report at every checkpoint parses only the new lines. */
const cache = new Map<string, DirReaders>();
/** Most run directories whose columns are kept between reports. */
const MAX_CACHED_RUNS = 4;

function readersOf(dir: string): DirReaders {
  const key = resolve(dir);
  const r = cache.get(key) ?? { metrics: new MetricsReader(join(dir, 'metrics.jsonl')), quarantine: new QuarantineCounter(join(dir, 'quarantine.jsonl')) };
  // most recently used last; the oldest is dropped first
  cache.delete(key);
  cache.set(key, r);
  while (cache.size > MAX_CACHED_RUNS) cache.delete(cache.keys().next().value as string);
  return r;
}

/**
 * Reads a training run directory (`tripletflow train --out DIR`) into a RunHistory. metrics.jsonl is required and
 * streamed; eval.json, run.json and quarantine.jsonl may be missing (a run in progress), which the history's `notes`
 * say. A cut-off last line of a JSONL file is skipped; a bad line elsewhere is a FatalError naming `file:line`.
 * The columns of the last few directories read are kept, so reading a growing run again parses only its new lines.
 */
export async function readRunHistory(dir: string): Promise<RunHistory> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const what = existsSync(dir) ? 'not a directory' : 'no such directory';
    throw new FatalError(`${dir}: ${what}; give the --out directory of a training run (tripletflow train --out DIR)`, { file: dir });
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
  const readers = readersOf(dir);
  const { notes: metricsNotes, ...m } = await readers.metrics.read();
  notes.push(...metricsNotes);
  const evalFile = readJsonFile(join(dir, 'eval.json'), EvalFileSchema, notes, 'the run has not finished, or it has no eval set');
  const run = readJsonFile(join(dir, 'run.json'), RunFileSchema, notes, 'the run is in progress or was stopped');

  let quarantineByReason: Record<string, number> | null = run?.quarantineByReason ?? null;
  let quarantineSource: RunHistory['quarantineSource'] = quarantineByReason ? 'run.json' : null;
  const quarantineFile = join(dir, 'quarantine.jsonl');
  // run.json has the counts already; the file may hold millions of records, so it is read only for a run in progress
  if (!quarantineByReason && existsSync(quarantineFile)) {
    const q = await readers.quarantine.read();
    quarantineByReason = q.counts;
    notes.push(...q.notes);
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
