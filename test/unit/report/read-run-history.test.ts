import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FatalError } from '../../../pipeline/errors.js';
import { readRunHistory } from '../../../pipeline/report/read-run-history.js';
import { fakeMetricsLine, fakeRunDir } from '../../helpers/fake-run.js';

async function fatal(p: Promise<unknown>): Promise<FatalError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FatalError);
    return e as FatalError;
  }
  throw new Error('expected a FatalError');
}

describe('readRunHistory', () => {
  it('reads a finished run into columns, phase spans, eval history, run.json and quarantine counts', async () => {
    const dir = fakeRunDir({ steps: 100, phases: [{ fromStep: 0, miner: 'semi-hard', batchSize: 16 }, { fromStep: 40, miner: 'hard-negative', batchSize: 32 }, { fromStep: 70, miner: 'batch-hard', batchSize: 64 }] });
    const h = await readRunHistory(dir);
    expect(h.metrics.length).toBe(100);
    expect(h.metrics.step[99]).toBe(99);
    expect(h.metrics.loss[7]).toBe(5);
    expect(Number.isNaN(h.metrics.gradNorm[0] as number)).toBe(true); // null in the file
    expect(h.miners).toEqual(['semi-hard', 'hard-negative', 'batch-hard']);
    expect(h.phases.map((p) => [p.phase, p.miner, p.batchSize, p.fromStep, p.toStep, p.startIndex, p.endIndex])).toEqual([
      [0, 'semi-hard', 16, 0, 39, 0, 40],
      [1, 'hard-negative', 32, 40, 69, 40, 70],
      [2, 'batch-hard', 64, 70, 99, 70, 100],
    ]);
    expect(h.stages.size).toBe(0);
    expect(h.eval?.final?.mean_average_precision_at_r).toBe(0.52);
    expect(h.eval?.untrained?.precision_at_1).toBe(0.48);
    expect(h.eval?.history.map((e) => e.step)).toEqual([50, 100]);
    expect(h.run?.status).toBe('done');
    expect(h.quarantineSource).toBe('run.json');
    expect(h.quarantineByReason).toEqual({ 'balance-batches.pool_overflow': 3 });
    expect(h.notes).toEqual([]);
  });

  it('a run in progress: no eval.json or run.json (noted), quarantine counted from quarantine.jsonl', async () => {
    const dir = fakeRunDir({ steps: 10, eval: false, run: false, quarantine: [['validate', 'bad_json', 2], ['tokenize', 'empty_after_tokenize', 1]] });
    const h = await readRunHistory(dir);
    expect(h.eval).toBeNull();
    expect(h.run).toBeNull();
    expect(h.quarantineSource).toBe('quarantine.jsonl');
    expect(h.quarantineByReason).toEqual({ 'validate.bad_json': 2, 'tokenize.empty_after_tokenize': 1 });
    expect(h.notes.join('\n')).toMatch(/eval\.json: missing/);
    expect(h.notes.join('\n')).toMatch(/run\.json: missing/);
  });

  it('no quarantine file and no run.json: no counts', async () => {
    const dir = fakeRunDir({ steps: 3, run: false });
    rmSync(join(dir, 'quarantine.jsonl'));
    const h = await readRunHistory(dir);
    expect(h.quarantineByReason).toBeNull();
    expect(h.quarantineSource).toBeNull();
  });

  it('a directory without metrics.jsonl, or no directory at all, is a FatalError naming the path and the fix', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tf-report-empty-'));
    const e = await fatal(readRunHistory(empty));
    expect(e.message).toContain(join(empty, 'metrics.jsonl'));
    expect(e.message).toMatch(/not found.*tripletflow train/);
    expect(e.file).toBe(join(empty, 'metrics.jsonl'));
    const missing = join(empty, 'nope');
    expect((await fatal(readRunHistory(missing))).message).toMatch(/nope: no such directory/);
    writeFileSync(missing, '');
    expect((await fatal(readRunHistory(missing))).message).toMatch(/nope: not a directory; give the --out directory/);
  });

  it('skips a cut-off last line of metrics.jsonl and says so', async () => {
    const full = JSON.stringify(fakeMetricsLine(5));
    const dir = fakeRunDir({ steps: 5, metricsTail: full.slice(0, 40) });
    const h = await readRunHistory(dir);
    expect(h.metrics.length).toBe(5);
    expect(h.metrics.step[4]).toBe(4);
    expect(h.notes.join('\n')).toMatch(/metrics\.jsonl: line 6, the last one, is cut off/);
  });

  it('a cut-off last line followed only by blank lines is still the last line', async () => {
    const dir = fakeRunDir({ steps: 3, metricsTail: '{"step": 3, "lo\n\n' });
    expect((await readRunHistory(dir)).metrics.length).toBe(3);
  });

  it('a corrupt line before the last is a FatalError naming file:line', async () => {
    const dir = fakeRunDir({ steps: 5 });
    const lines = Array.from({ length: 5 }, (_, s) => JSON.stringify(fakeMetricsLine(s)));
    lines[2] = '{"step": 2, "loss": ';
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    const e = await fatal(readRunHistory(dir));
    expect(e.message).toContain(`${join(dir, 'metrics.jsonl')}:3: not valid JSON`);
    expect(e.message).toMatch(/Fix or delete that line/);
  });

  it('a line that is JSON but not a metrics object is a FatalError naming file:line, even as the last line', async () => {
    const dir = fakeRunDir({ steps: 2, metricsTail: '{"loss": 1}\n' });
    expect((await fatal(readRunHistory(dir))).message).toContain(`${join(dir, 'metrics.jsonl')}:3: expected a metrics object with a numeric "step"`);
  });

  it('an empty metrics.jsonl (training just started) reads as no steps, with a note', async () => {
    const dir = fakeRunDir({ steps: 0, eval: false, run: false });
    const h = await readRunHistory(dir);
    expect(h.metrics.length).toBe(0);
    expect(h.phases).toEqual([]);
    expect(h.notes.join('\n')).toMatch(/no step logged yet/);
  });

  it('lines with and without `stages`: stage columns are NaN where a line lacks them', async () => {
    const dir = fakeRunDir({ steps: 30, stages: ['read', 'tokenize'], stagesFromStep: 10 });
    const h = await readRunHistory(dir);
    expect([...h.stages.keys()]).toEqual(['read', 'tokenize']);
    const tok = h.stages.get('tokenize');
    expect(tok?.recordsPerSec.length).toBe(30);
    expect(Number.isNaN(tok?.recordsPerSec[9] as number)).toBe(true);
    expect(tok?.recordsPerSec[10]).toBe(2000);
    expect(tok?.waitConsumerMs[29]).toBe(58);
    expect(h.stages.get('read')?.records[29]).toBe(30 * 64);
    expect(tok?.busyMs[29]).toBe(29 * 2 * 2);
    const noBusy = await readRunHistory(fakeRunDir({ steps: 3, stages: ['read'], noBusy: true }));
    expect(Array.from(noBusy.stages.get('read')?.busyMs ?? []).every(Number.isNaN)).toBe(true);
    expect(noBusy.stages.get('read')?.waitProducerMs[2]).toBe(1);
  });

  it('`stages` that is not an object is a FatalError naming file:line', async () => {
    const dir = fakeRunDir({ steps: 2 });
    appendFileSync(join(dir, 'metrics.jsonl'), `${JSON.stringify({ ...fakeMetricsLine(2), stages: [1, 2] })}\n`);
    expect((await fatal(readRunHistory(dir))).message).toMatch(/metrics\.jsonl:3: "stages" must be an object/);
  });

  it('a run.json cut off mid-write is left out with a note; one of the wrong shape is a FatalError naming it', async () => {
    const dir = fakeRunDir({ steps: 3 });
    writeFileSync(join(dir, 'run.json'), '{"status": "do');
    const h = await readRunHistory(dir);
    expect(h.run).toBeNull();
    expect(h.quarantineSource).toBe('quarantine.jsonl');
    expect(h.notes.join('\n')).toMatch(/run\.json: not complete JSON/);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ status: 'done', steps: 'many' }));
    const e = await fatal(readRunHistory(dir));
    expect(e.message).toContain(join(dir, 'run.json'));
    expect(e.message).toMatch(/steps/);
  });

  it('a corrupt line in quarantine.jsonl (run in progress) names file:line', async () => {
    const dir = fakeRunDir({ steps: 3, run: false, quarantine: [['validate', 'bad_json', 3]] });
    writeFileSync(join(dir, 'quarantine.jsonl'), '{"stage":"validate","reason":"bad_json"}\nnot json\n{"stage":"validate","reason":"bad_json"}\n');
    expect((await fatal(readRunHistory(dir))).message).toContain(`${join(dir, 'quarantine.jsonl')}:2: not valid JSON`);
  });
});

describe('readRunHistory on a growing run', () => {
  it('a second read after more lines (and a completed cut-off line) equals a fresh read of the same file', async () => {
    const all = Array.from({ length: 60 }, (_, s) => JSON.stringify(fakeMetricsLine(s, { steps: 60, stages: ['read'], stagesFromStep: 40 })));
    const dir = fakeRunDir({ steps: 0, run: false, eval: false });
    const metrics = join(dir, 'metrics.jsonl');
    writeFileSync(metrics, `${all.slice(0, 30).join('\n')}\n${(all[30] as string).slice(0, 25)}`);
    const early = await readRunHistory(dir);
    expect(early.metrics.length).toBe(30);
    expect(early.stages.size).toBe(0);
    appendFileSync(metrics, `${(all[30] as string).slice(25)}\n${all.slice(31).join('\n')}\n`);
    const later = await readRunHistory(dir);
    const copy = fakeRunDir({ steps: 0, run: false, eval: false });
    writeFileSync(join(copy, 'metrics.jsonl'), `${all.join('\n')}\n`);
    const fresh = await readRunHistory(copy);
    expect(later.metrics.length).toBe(60);
    expect(later.metrics).toEqual(fresh.metrics);
    expect(later.phases).toEqual(fresh.phases);
    expect([...later.stages.entries()]).toEqual([...fresh.stages.entries()]);
    expect(later.notes).toEqual(fresh.notes);
    // the earlier snapshot is not changed by the later read
    expect(early.metrics.length).toBe(30);
    expect(early.metrics.step.length).toBe(30);
  });

  it('quarantine counts of a run in progress follow the appended records', async () => {
    const dir = fakeRunDir({ steps: 3, run: false, quarantine: [['validate', 'bad_json', 2]] });
    expect((await readRunHistory(dir)).quarantineByReason).toEqual({ 'validate.bad_json': 2 });
    appendFileSync(join(dir, 'quarantine.jsonl'), `${JSON.stringify({ stage: 'tokenize', reason: 'empty_after_tokenize', recordId: 'x' })}\n`);
    expect((await readRunHistory(dir)).quarantineByReason).toEqual({ 'validate.bad_json': 2, 'tokenize.empty_after_tokenize': 1 });
  });
});
