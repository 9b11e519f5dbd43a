import { z } from 'zod';
import { ConfigError } from '../pipeline/errors.js';

/** One phase of a batch-size schedule: from `fromStep` on, batches hold P classes × K samples. */
export const BatchPhaseSchema = z.object({
  /** Position of the phase in its schedule, 0-based. */
  index: z.number().int().nonnegative(),
  /** First batch step (0-based, counted over the whole run) that uses this phase. */
  fromStep: z.number().int().nonnegative(),
  /** P: distinct classes in a full batch. */
  classesPerBatch: z.number().int().min(1),
  /** K: records of each class in a batch. */
  samplesPerClass: z.number().int().min(1),
  /** Printable shape, `PxK` (`125x4`). */
  name: z.string(),
});
export type BatchPhase = z.infer<typeof BatchPhaseSchema>;

/** What a user writes for a phase: step and shape, without the derived index and name. */
export const BatchPhaseSpecSchema = z.object({
  fromStep: z.number().int().nonnegative(),
  classesPerBatch: z.number().int().min(1),
  samplesPerClass: z.number().int().min(1),
});
export type BatchPhaseSpec = z.infer<typeof BatchPhaseSpecSchema>;

/**
 * A batch-size schedule as it appears in a JSON config: phases in increasing `fromStep`, the first at step 0.
 * Parse it with `batchSchedule()` to get checked phases with their index and name.
 */
export const BatchScheduleSchema = z
  .array(BatchPhaseSpecSchema)
  .min(1, 'a schedule needs at least one phase, e.g. "0:125x4"')
  .superRefine((phases, rc) => {
    if (phases[0] && phases[0].fromStep !== 0) {
      rc.addIssue({ code: 'custom', path: [0, 'fromStep'], message: `the first phase must start at step 0 (got ${phases[0].fromStep})` });
    }
    for (let i = 1; i < phases.length; i++) {
      const prev = phases[i - 1] as BatchPhaseSpec;
      const cur = phases[i] as BatchPhaseSpec;
      if (cur.fromStep <= prev.fromStep) {
        rc.addIssue({
          code: 'custom',
          path: [i, 'fromStep'],
          message: `phase steps must increase (step ${cur.fromStep} follows step ${prev.fromStep})`,
        });
      }
    }
  });
export type BatchScheduleSpec = z.infer<typeof BatchScheduleSchema>;

/** A checked batch-size schedule: phases sorted by `fromStep`, the first starting at 0. */
export type BatchSchedule = readonly BatchPhase[];

/** A schedule with one phase, P × K from step 0. */
export function constantSchedule(classesPerBatch: number, samplesPerClass: number, path = 'schedule'): BatchSchedule {
  return batchSchedule([{ fromStep: 0, classesPerBatch, samplesPerClass }], path);
}

/** Checks phase specs and returns the schedule; a bad one is a ConfigError naming the field's path. */
export function batchSchedule(spec: readonly BatchPhaseSpec[], path = 'schedule'): BatchSchedule {
  const r = BatchScheduleSchema.safeParse(spec);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = (issue?.path ?? []).reduce<string>(
      (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`),
      path,
    );
    throw new ConfigError(where, issue?.message ?? 'invalid schedule');
  }
  return r.data.map((p, index) => ({ ...p, index, name: `${p.classesPerBatch}x${p.samplesPerClass}` }));
}

const PHASE_RE = /^(\d+)\s*:\s*(\d+)\s*[xX×]\s*(\d+)$/;

/**
 * Parses `"0:125x4,2000:250x4,6000:500x4"` (step:PxK, comma-separated) into a schedule.
 * Throws a ConfigError that quotes the bad part and shows the expected form.
 */
export function parseBatchSchedule(text: string, path = 'schedule'): BatchSchedule {
  const parts = text.split(',').map((s) => s.trim());
  if (text.trim() === '') {
    throw new ConfigError(path, 'expected "step:PxK[,step:PxK...]" such as "0:125x4,2000:250x4" (got an empty string)');
  }
  const specs = parts.map((part, i): BatchPhaseSpec => {
    const m = PHASE_RE.exec(part);
    if (!m) {
      throw new ConfigError(
        `${path}[${i}]`,
        `expected "step:PxK" such as "2000:250x4" (got "${part}"); write phases as "0:125x4,2000:250x4"`,
      );
    }
    const [fromStep, classesPerBatch, samplesPerClass] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (classesPerBatch < 1 || samplesPerClass < 1) {
      throw new ConfigError(`${path}[${i}]`, `P and K must be >= 1 (got "${part}")`);
    }
    return { fromStep, classesPerBatch, samplesPerClass };
  });
  return batchSchedule(specs, path);
}

/** Formats a schedule back into its `step:PxK,...` text form. */
export function formatBatchSchedule(schedule: BatchSchedule): string {
  return schedule.map((p) => `${p.fromStep}:${p.name}`).join(',');
}

/** The phase in force at `step`: the last phase whose `fromStep` is <= step. */
export function phaseAt(schedule: BatchSchedule, step: number): BatchPhase {
  let lo = 0;
  let hi = schedule.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((schedule[mid] as BatchPhase).fromStep <= step) lo = mid;
    else hi = mid - 1;
  }
  return schedule[lo] as BatchPhase;
}
