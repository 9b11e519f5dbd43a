import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../pipeline/cli.js';
import { buildSections, NO_STAGE_METRICS } from '../../../pipeline/report/charts/index.js';
import { MAX_POINTS_PER_CHART, MAX_POINTS_PER_SERIES } from '../../../pipeline/report/downsample.js';
import { readRunHistory } from '../../../pipeline/report/read-run-history.js';
import { writeReport } from '../../../pipeline/report/write-report.js';
import { fakeMetricsLine, fakeRunDir } from '../../helpers/fake-run.js';
import { expectWellFormedSvg, svgTexts } from '../../helpers/svg.js';

const texts = svgTexts;

describe('writeReport', () => {
  it('writes report.html with one inline <svg> per chart file, nothing fetched from the network, and well-formed SVG files', async () => {
    const dir = fakeRunDir({ steps: 300, stages: ['read', 'tokenize', 'train'], collapseAt: 250 });
    const r = await writeReport(dir);
    expect(r.html).toBe(join(dir, 'report.html'));
    expect(r.charts.map((c) => c.slice(dir.length + 1))).toEqual([
      'report/loss.svg', 'report/hardest-loss.svg', 'report/active-fraction.svg', 'report/distances.svg', 'report/spread.svg',
      'report/eval.svg', 'report/quarantine.svg', 'report/throughput.svg', 'report/stage-busy.svg', 'report/stage-waits.svg',
    ]);
    const html = readFileSync(r.html, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<svg[\s>]/g)).toHaveLength(r.charts.length);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    for (const c of r.charts) {
      const svg = readFileSync(c, 'utf8');
      expectWellFormedSvg(svg);
      // the same chart, byte for byte, is inlined in the page
      expect(html).toContain(svg);
    }
    // atomic writes leave no temporary files behind
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(readdirSync(join(dir, 'report')).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('the loss chart has a series per phase named after its miner, the hardest loss, and a marker at each phase switch', async () => {
    const dir = fakeRunDir({
      steps: 90,
      phases: [{ fromStep: 0, miner: 'semi-hard', batchSize: 16 }, { fromStep: 30, miner: 'hard-negative', batchSize: 32 }, { fromStep: 60, miner: 'batch-hard', batchSize: 64 }],
    });
    await writeReport(dir);
    const t = texts(readFileSync(join(dir, 'report', 'loss.svg'), 'utf8'));
    for (const name of ['phase 0 · semi-hard (16)', 'phase 1 · hard-negative (32)', 'phase 2 · batch-hard (64)', 'hardest (batch-hard) loss']) {
      expect(t).toContain(name);
    }
    // switch markers: the new phase's miner and batch size, at steps 30 and 60 only (none at step 0)
    expect(t.filter((s) => /^[a-z-]+ \(\d+\)$/.test(s))).toEqual(['hard-negative (32)', 'batch-hard (64)']);
    const h = await readRunHistory(dir);
    const loss = buildSections(h)[0];
    if (loss?.kind !== 'chart') throw new Error('expected the loss chart');
    const series = loss.option.series as Array<{ name: string; data: Array<[number, number]>; markLine?: { data: Array<{ xAxis?: number }> } }>;
    expect(series.map((s) => s.data[0]?.[0])).toEqual([0, 30, 60, 0]);
    expect(series.at(-1)?.markLine?.data.map((d) => d.xAxis)).toEqual([30, 60]);
  });

  it('marks the collapse on the spread chart when the detector fired, and not otherwise', async () => {
    const fired = fakeRunDir({ steps: 100, collapseAt: 80 });
    await writeReport(fired);
    expect(texts(readFileSync(join(fired, 'report', 'spread.svg'), 'utf8'))).toContain('collapse at step 80');
    const quiet = fakeRunDir({ steps: 100 });
    await writeReport(quiet);
    expect(readFileSync(join(quiet, 'report', 'spread.svg'), 'utf8')).not.toContain('collapse at step');
  });

  it('eval chart: the three metrics over steps, starting from the untrained baseline at step 0', async () => {
    const dir = fakeRunDir({ steps: 100 });
    await writeReport(dir);
    const t = texts(readFileSync(join(dir, 'report', 'eval.svg'), 'utf8'));
    for (const s of ['P@1', 'R-precision', 'MAP@R', 'untrained P@1 0.480', 'untrained MAP@R 0.070']) expect(t).toContain(s);
    const h = await readRunHistory(dir);
    const ev = buildSections(h).find((s) => s.id === 'eval');
    if (ev?.kind !== 'chart') throw new Error('expected the eval chart');
    const p1 = (ev.option.series as Array<{ data: Array<[number, number]> }>)[0]?.data;
    expect(p1).toEqual([[0, 0.48], [50, 0.7], [100, 0.83]]);
  });

  it('the stage charts appear only when lines carry `stages`; otherwise a note, and no stale stage SVG is left', async () => {
    const dir = fakeRunDir({ steps: 50, stages: ['read-jsonl', 'tokenize'], stagesFromStep: 20 });
    const withStages = await writeReport(dir);
    expect(withStages.charts.some((c) => c.endsWith('throughput.svg'))).toBe(true);
    const t = texts(readFileSync(join(dir, 'report', 'throughput.svg'), 'utf8'));
    expect(t).toEqual(expect.arrayContaining(['read-jsonl', 'tokenize']));
    expect(texts(readFileSync(join(dir, 'report', 'stage-waits.svg'), 'utf8'))).toEqual(expect.arrayContaining(['tokenize waiting on consumer', 'tokenize waiting on producer']));
    expect(readFileSync(withStages.html, 'utf8')).not.toContain(NO_STAGE_METRICS);
    expect(texts(readFileSync(join(dir, 'report', 'stage-busy.svg'), 'utf8'))).toEqual(expect.arrayContaining(['read-jsonl', 'tokenize']));
    // throughput on a log axis: intervals with no output (rate 0) are left out, the rest kept
    const h = await readRunHistory(dir);
    const tp = buildSections(h).find((x) => x.id === 'throughput');
    if (tp?.kind !== 'chart') throw new Error('expected the throughput chart');
    expect(tp.option.yAxis).toMatchObject({ type: 'log' });
    const tok = (tp.option.series as Array<{ name: string; data: Array<[number, number]> }>).find((x) => x.name === 'tokenize')?.data ?? [];
    expect(tok.map(([x]) => x)).toEqual(Array.from({ length: 30 }, (_, k) => 20 + k).filter((x) => x % 10 !== 5));
    expect(tok.every(([, y]) => y > 0)).toBe(true);

    // stage figures as first specified, without busyMs: no busy chart
    writeFileSync(join(dir, 'metrics.jsonl'), Array.from({ length: 50 }, (_, s) => `${JSON.stringify(fakeMetricsLine(s, { steps: 50, stages: ['tokenize'], noBusy: true }))}\n`).join(''));
    const noBusy = await writeReport(dir);
    expect(noBusy.charts.map((c) => c.slice(join(dir, 'report').length + 1)).slice(-2)).toEqual(['throughput.svg', 'stage-waits.svg']);
    expect(existsSync(join(dir, 'report', 'stage-busy.svg'))).toBe(false);

    // the same directory rewritten by an engine without per-stage metrics
    writeFileSync(join(dir, 'metrics.jsonl'), Array.from({ length: 50 }, (_, s) => `${JSON.stringify(fakeMetricsLine(s, { steps: 50 }))}\n`).join(''));
    const without = await writeReport(dir);
    expect(without.charts.some((c) => /throughput|stage-/.test(c))).toBe(false);
    expect(existsSync(join(dir, 'report', 'throughput.svg'))).toBe(false);
    expect(existsSync(join(dir, 'report', 'stage-waits.svg'))).toBe(false);
    const html = readFileSync(without.html, 'utf8');
    expect(html).toContain(NO_STAGE_METRICS.replace(/"/g, '&quot;'));
    expect(html.match(/<svg[\s>]/g)).toHaveLength(without.charts.length);
  });

  it('quarantine bars by reason, largest first; a note when nothing was quarantined', async () => {
    const dir = fakeRunDir({ steps: 20, quarantine: [['validate', 'bad_json', 2], ['balance-batches', 'incomplete_batch', 7]] });
    await writeReport(dir);
    const t = texts(readFileSync(join(dir, 'report', 'quarantine.svg'), 'utf8'));
    expect(t.indexOf('balance-batches.incomplete_batch')).toBeGreaterThanOrEqual(0);
    expect(t.indexOf('balance-batches.incomplete_batch')).toBeLessThan(t.indexOf('validate.bad_json'));
    expect(t).toEqual(expect.arrayContaining(['7', '2']));
    const none = fakeRunDir({ steps: 20, quarantine: [] });
    const r = await writeReport(none);
    expect(r.charts.some((c) => c.endsWith('quarantine.svg'))).toBe(false);
    expect(readFileSync(r.html, 'utf8')).toContain('No record was quarantined.');
  });

  it('summary: status, steps, steps/s, backend, final vs untrained, and the record accounting', async () => {
    const dir = fakeRunDir({ steps: 40 });
    const html = readFileSync((await writeReport(dir)).html, 'utf8');
    expect(html).toMatch(/<th>status<\/th><td>done<\/td>/);
    expect(html).toMatch(/<th>steps\/s<\/th><td>16<\/td>/);
    expect(html).toMatch(/<th>backend<\/th><td>cpu<\/td>/);
    expect(html).toMatch(/<th>MAP@R<\/th><td class="num">0\.070<\/td><td class="num">0\.520<\/td><td class="num">\+0\.450<\/td>/);
    expect(html).toContain('1,000 = 1,000 (every record accounted for)');
    // a run stopped resumably before its configured steps
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, status: 'resumable', stepsTotal: 100 }));
    const stopped = readFileSync((await writeReport(dir)).html, 'utf8');
    expect(stopped).toMatch(/<th>status<\/th><td>resumable<\/td>/);
    expect(stopped).toMatch(/<th>steps<\/th><td>40 of 100<\/td>/);
  });

  it('a run in progress (no run.json, no eval.json, cut-off last line) still reports, and says what is missing', async () => {
    const dir = fakeRunDir({ steps: 30, run: false, eval: false, metricsTail: '{"step":30,"loss":0.' });
    const r = await writeReport(dir);
    const html = readFileSync(r.html, 'utf8');
    expect(html).toContain('in progress, or stopped (no run.json yet)');
    expect(html).toContain('30 (logged so far)');
    expect(html).toContain('line 31, the last one, is cut off');
    expect(r.charts.some((c) => c.endsWith('eval.svg'))).toBe(false);
    expect(r.charts.some((c) => c.endsWith('loss.svg'))).toBe(true);
  });

  it('a long run: every series is downsampled to at most 2,000 points and every chart to 8,000, first and last steps kept', async () => {
    const steps = 20_000;
    const stages = ['read-jsonl', 'validate', 'shuffle-window', 'tokenize', 'balance-batches', 'train-step'];
    const dir = fakeRunDir({ steps, stages, phases: [{ fromStep: 0, miner: 'semi-hard', batchSize: 16 }, { fromStep: 15_000, miner: 'batch-hard', batchSize: 32 }] });
    const sections = buildSections(await readRunHistory(dir));
    let checked = 0;
    for (const s of sections) {
      if (s.kind !== 'chart' || s.id === 'quarantine' || s.id === 'eval') continue;
      const all = s.option.series as Array<{ data: Array<[number, number]> }>;
      expect(all.reduce((n, x) => n + x.data.length, 0)).toBeLessThanOrEqual(MAX_POINTS_PER_CHART);
      for (const series of all) {
        expect(series.data.length).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
        checked++;
      }
      if (s.id !== 'loss') {
        for (const series of all) {
          expect(series.data[0]?.[0]).toBe(0);
          expect(series.data.at(-1)?.[0]).toBe(steps - 1);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(5 + 2 + 6 + 6 + 12);
    const loss = sections[0];
    if (loss?.kind !== 'chart') throw new Error('expected the loss chart');
    const [early, late] = loss.option.series as Array<{ data: Array<[number, number]> }>;
    // the phases share one series' budget in proportion to their length, each keeping its ends; the spike at step 7 survives
    expect(early?.data.length).toBe(1500);
    expect(late?.data.length).toBe(500);
    expect([early?.data[0]?.[0], early?.data.at(-1)?.[0], late?.data[0]?.[0], late?.data.at(-1)?.[0]]).toEqual([0, 14_999, 15_000, steps - 1]);
    expect(early?.data).toContainEqual([7, 5]);
  });
});

describe('tripletflow report DIR', () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const o = process.stdout.write.bind(process.stdout);
    const e = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
    try {
      return { code: await main(argv), out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = o;
      process.stderr.write = e;
    }
  }

  it('prints {html, charts} as one JSON line and exits 0', async () => {
    const dir = fakeRunDir({ steps: 20 });
    const r = await run(['report', dir]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const printed = JSON.parse(lines[0] as string) as { html: string; charts: string[] };
    expect(printed.html).toBe(join(dir, 'report.html'));
    expect(printed.charts).toContain(join(dir, 'report', 'loss.svg'));
    for (const f of [printed.html, ...printed.charts]) expect(existsSync(f)).toBe(true);
  });

  it('a directory that is not a run: exit 1, the message names metrics.jsonl and how to fix it', async () => {
    const dir = fakeRunDir({ steps: 1 });
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'metrics.jsonl'));
    const r = await run(['report', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`tripletflow: error: ${join(dir, 'metrics.jsonl')}: not found`);
    expect(r.err).toMatch(/--out directory of `tripletflow train`/);
  });
});
