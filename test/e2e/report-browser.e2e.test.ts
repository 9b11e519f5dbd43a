import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../pipeline/logger.js';
import { writeReport } from '../../pipeline/report/write-report.js';
import { runTrain } from '../../pipeline/train.js';

// Debian's chromium (`apt-get install chromium`; .ci/run installs it when it is missing)
const CHROMIUM = process.env.TRIPLETFLOW_CHROMIUM ?? '/usr/bin/chromium';

describe('report in a headless browser', () => {
  it('report.html of a real run renders in chromium without errors and shows every chart', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set TRIPLETFLOW_CHROMIUM`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'tf-report-browser-'));
    await runTrain({
      inputs: ['test/fixtures/small-corpus.jsonl'], eval: ['test/fixtures/small-eval.jsonl'], steps: 30, classes: 4, perClass: 4,
      curriculum: '0:semi-hard:4x4,15:batch-hard:6x4', embeddingDim: 16, head: [32, 16], backend: 'cpu', shuffleWindow: 64,
      evalEvery: 10, logEvery: 1, checkpointEvery: 10, progress: false, seed: 2, out: dir,
    }, silentLogger());
    const written = await writeReport(dir);
    expect(written.charts.length).toBeGreaterThanOrEqual(6);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      const requests: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
      await page.goto(pathToFileURL(written.html).href, { waitUntil: 'load' });
      expect(errors).toEqual([]);
      expect(requests, 'the report needs no network').toEqual([]);
      // every chart is an SVG laid out with a real size and drawn paths
      const charts = await page.$$eval('svg', (svgs) => svgs.map((s) => {
        const r = s.getBoundingClientRect();
        return { width: r.width, height: r.height, paths: s.querySelectorAll('path').length };
      }));
      expect(charts.length).toBeGreaterThanOrEqual(written.charts.length);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(100);
        expect(c.height).toBeGreaterThan(100);
        expect(c.paths).toBeGreaterThan(0);
      }
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
