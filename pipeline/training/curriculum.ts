import { z } from 'zod';
import { MinerSpecSchema, type MinerSpec } from '../../schemas/triplets.js';
import { ConfigError } from '../errors.js';

/** One phase of a curriculum: from `fromStep` on, this miner on batches of P classes × K samples. */
export interface CurriculumPhase {
  readonly index: number;
  readonly fromStep: number;
  readonly miner: MinerSpec;
  readonly classesPerBatch: number;
  readonly samplesPerClass: number;
}

/** The `auto` rule: leave a phase once its miner's active-triplet fraction stays below `threshold` for `window` steps. */
export interface AutoAdvance {
  readonly threshold: number;
  readonly window: number;
}

/** A parsed curriculum. */
export interface Curriculum {
  readonly phases: readonly CurriculumPhase[];
  readonly auto?: AutoAdvance;
  /** `0:semi-hard:16x4,1000:batch-hard:32x4` */
  readonly spec: string;
}

const minerNames = MinerSpecSchema.options.map((o) => o.shape.name.value);

/** Parses `miner` or `miner:fallback` (e.g. `semi-hard:easiest`) into a MinerSpec. */
export function parseMiner(s: string, path = 'miner'): MinerSpec {
  const [name, option] = s.split('/');
  if (!minerNames.includes(name as MinerSpec['name'])) {
    throw new ConfigError(path, `unknown miner "${name}"; use one of ${minerNames.join(', ')}`);
  }
  const raw: Record<string, unknown> = { name };
  if (option !== undefined) {
    if (name === 'semi-hard') raw.fallback = option;
    else if (name === 'threshold') raw.type = option;
    else throw new ConfigError(path, `miner ${name} takes no option (got "${option}")`);
  }
  const r = MinerSpecSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(path, `${s}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/**
 * Parses a curriculum: comma-separated `step:miner:PxK` phases (`0:semi-hard:16x4,1000:hard-negative:32x4`), the
 * first at step 0, steps increasing. A trailing `auto` or `auto(0.05,100)` turns on the auto rule (threshold,
 * window in steps).
 */
export function parseCurriculum(spec: string): Curriculum {
  // commas inside auto(…) belong to it
  const parts = spec.split(/,(?![^(]*\))/).map((p) => p.trim()).filter(Boolean);
  let auto: AutoAdvance | undefined;
  const phases: CurriculumPhase[] = [];
  for (const part of parts) {
    const m = /^auto(?:\(([\d.]+),(\d+)\))?$/.exec(part);
    if (m) {
      auto = { threshold: m[1] ? Number(m[1]) : 0.05, window: m[2] ? Number(m[2]) : 100 };
      continue;
    }
    const f = /^(\d+):([a-z-]+(?:\/[a-z-]+)?):(\d+)x(\d+)$/.exec(part);
    if (!f) throw new ConfigError('curriculum', `cannot read phase "${part}"; write step:miner:PxK, e.g. 0:semi-hard:16x4`);
    const phase: CurriculumPhase = {
      index: phases.length,
      fromStep: Number(f[1]),
      miner: parseMiner(f[2] as string, `curriculum[${phases.length}].miner`),
      classesPerBatch: Number(f[3]),
      samplesPerClass: Number(f[4]),
    };
    if (phase.classesPerBatch < 2) throw new ConfigError(`curriculum[${phase.index}]`, `P must be >= 2 classes to have negatives (got ${phase.classesPerBatch})`);
    if (phase.samplesPerClass < 2) throw new ConfigError(`curriculum[${phase.index}]`, `K must be >= 2 samples per class to have positives (got ${phase.samplesPerClass})`);
    const prev = phases.at(-1);
    if (!prev && phase.fromStep !== 0) throw new ConfigError('curriculum[0]', `the first phase must start at step 0 (got ${phase.fromStep})`);
    if (prev && phase.fromStep <= prev.fromStep) throw new ConfigError(`curriculum[${phase.index}]`, `steps must increase (${phase.fromStep} after ${prev.fromStep})`);
    phases.push(phase);
  }
  if (phases.length === 0) throw new ConfigError('curriculum', 'needs at least one phase, e.g. 0:batch-hard:16x4');
  return { phases, ...(auto ? { auto } : {}), spec: parts.join(',') };
}

/** Renders phases back to the spec syntax. */
export function curriculumSpec(phases: readonly CurriculumPhase[], auto?: AutoAdvance): string {
  const minerStr = (m: MinerSpec) => (m.name === 'semi-hard' && m.fallback !== 'hardest' ? `semi-hard/${m.fallback}` : m.name === 'threshold' ? `threshold/${m.type}` : m.name);
  const s = phases.map((p) => `${p.fromStep}:${minerStr(p.miner)}:${p.classesPerBatch}x${p.samplesPerClass}`).join(',');
  return auto ? `${s},auto(${auto.threshold},${auto.window})` : s;
}

/**
 * The default curriculum, as the recipe advises: semi-hard, then hard-negative, then batch-hard, each a third of
 * the run, with the batch doubling per phase from P×K up to what the corpus's classes allow.
 */
export function defaultCurriculum(steps: number, classes: number, P: number, K: number): Curriculum {
  const third = Math.max(1, Math.floor(steps / 3));
  const miners: MinerSpec[] = [
    { name: 'semi-hard', fallback: 'hardest', bounded: true, tfMasked: false },
    { name: 'hard-negative' },
    { name: 'batch-hard', positive: 'hardest', negative: 'hardest', tfMasked: false },
  ];
  const cap = Math.max(2, classes);
  const phases = miners.map((miner, i): CurriculumPhase => ({
    index: i,
    fromStep: i * third,
    miner,
    classesPerBatch: Math.min(cap, P * 2 ** i),
    samplesPerClass: K,
  }));
  return { phases, spec: curriculumSpec(phases) };
}

/** A curriculum of one phase: `miner` on P×K batches throughout. */
export function singlePhase(miner: MinerSpec, P: number, K: number): Curriculum {
  const phases = [{ index: 0, fromStep: 0, miner, classesPerBatch: P, samplesPerClass: K }];
  return { phases, spec: curriculumSpec(phases) };
}

/** Tracks the phase in force, switching by step, or earlier by the auto rule. */
export class CurriculumTracker {
  private current = 0;
  private lowSteps = 0;
  /** Step at which each phase actually started (auto switches move it earlier). */
  readonly startedAt: number[];

  constructor(readonly curriculum: Curriculum) {
    this.startedAt = curriculum.phases.map((p) => p.fromStep);
  }

  /** The phase for `step` (call with increasing steps). */
  phaseAt(step: number): CurriculumPhase {
    const phases = this.curriculum.phases;
    while (this.current + 1 < phases.length && step >= (phases[this.current + 1] as CurriculumPhase).fromStep) this.advance(step);
    return phases[this.current] as CurriculumPhase;
  }

  /** Feeds the auto rule with a step's active fraction; returns true when it moves on to the next phase. */
  observe(step: number, activeFraction: number): boolean {
    const auto = this.curriculum.auto;
    if (!auto || this.current + 1 >= this.curriculum.phases.length) return false;
    this.lowSteps = activeFraction < auto.threshold ? this.lowSteps + 1 : 0;
    if (this.lowSteps < auto.window) return false;
    this.advance(step + 1);
    return true;
  }

  /** Index of the phase in force. */
  get index(): number {
    return this.current;
  }

  /** State for checkpoints. */
  state(): { current: number; lowSteps: number; startedAt: number[] } {
    return { current: this.current, lowSteps: this.lowSteps, startedAt: [...this.startedAt] };
  }

  /** Restores `state()`. */
  restore(s: { current: number; lowSteps: number; startedAt: number[] }): void {
    this.current = s.current;
    this.lowSteps = s.lowSteps;
    s.startedAt.forEach((v, i) => { this.startedAt[i] = v; });
  }

  private advance(step: number): void {
    this.current++;
    this.lowSteps = 0;
    this.startedAt[this.current] = Math.min(this.startedAt[this.current] as number, step);
  }
}

/** Zod schema of a curriculum given as a spec string. */
export const CurriculumSpecSchema = z.string().transform((s, ctx) => {
  try {
    return parseCurriculum(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});
