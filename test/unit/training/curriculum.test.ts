import { describe, expect, it } from 'vitest';
import { CurriculumTracker, defaultCurriculum, parseCurriculum, parseMiner } from '../../../pipeline/training/curriculum.js';

describe('curriculum', () => {
  it('parses phases with miners, options and batch shapes', () => {
    const c = parseCurriculum('0:semi-hard/easiest:16x4, 1000:hard-negative:32x4,2000:batch-hard:64x4');
    expect(c.phases.map((p) => [p.fromStep, p.miner.name, p.classesPerBatch, p.samplesPerClass])).toEqual([
      [0, 'semi-hard', 16, 4], [1000, 'hard-negative', 32, 4], [2000, 'batch-hard', 64, 4],
    ]);
    expect(c.phases[0]?.miner).toMatchObject({ fallback: 'easiest' });
    expect(c.auto).toBeUndefined();
  });

  it('rejects unknown miners, bad shapes and non-increasing steps with the field named', () => {
    expect(() => parseCurriculum('0:hardest:16x4')).toThrow(/unknown miner "hardest"; use one of/);
    expect(() => parseMiner('nope')).toThrow(/unknown miner "nope"/);
    expect(() => parseCurriculum('5:batch-hard:16x4')).toThrow(/first phase must start at step 0/);
    expect(() => parseCurriculum('0:batch-hard:16x4,0:semi-hard:16x4')).toThrow(/steps must increase/);
    expect(() => parseCurriculum('0:batch-hard:1x4')).toThrow(/P must be >= 2/);
    expect(() => parseCurriculum('0:batch-hard:16')).toThrow(/write step:miner:PxK/);
  });

  it('switches phases by step', () => {
    const t = new CurriculumTracker(parseCurriculum('0:semi-hard:4x4,10:batch-hard:8x4'));
    expect(t.phaseAt(0).miner.name).toBe('semi-hard');
    expect(t.phaseAt(9).miner.name).toBe('semi-hard');
    expect(t.phaseAt(10).miner.name).toBe('batch-hard');
  });

  it('auto: moves on early when the active fraction stays below the threshold for the window', () => {
    const t = new CurriculumTracker(parseCurriculum('0:semi-hard:4x4,1000:batch-hard:4x4,auto(0.1,3)'));
    expect(t.observe(0, 0.05)).toBe(false);
    expect(t.observe(1, 0.5)).toBe(false);
    expect(t.observe(2, 0.05)).toBe(false);
    expect(t.observe(3, 0.05)).toBe(false);
    expect(t.observe(4, 0.05)).toBe(true);
    expect(t.phaseAt(5).miner.name).toBe('batch-hard');
    expect(t.startedAt[1]).toBe(5);
  });

  it('default: semi-hard, hard-negative, batch-hard with batches growing up to the number of classes', () => {
    const c = defaultCurriculum(3000, 77, 16, 4);
    expect(c.phases.map((p) => p.miner.name)).toEqual(['semi-hard', 'hard-negative', 'batch-hard']);
    expect(c.phases.map((p) => p.fromStep)).toEqual([0, 1000, 2000]);
    expect(c.phases.map((p) => p.classesPerBatch)).toEqual([16, 32, 64]);
    expect(defaultCurriculum(300, 20, 16, 4).phases.map((p) => p.classesPerBatch)).toEqual([16, 20, 20]);
  });
});
