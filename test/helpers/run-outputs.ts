import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** metrics.jsonl of a run directory, without the timings (`ms`, `stages`: the fields two identical runs differ in). */
export function metricsOf(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { ms: _ms, stages: _stages, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

/** eval.json of a run directory. */
export function evalOf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, unknown>;
}
