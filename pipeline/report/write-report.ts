import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { buildSections, CHART_IDS } from './charts/index.js';
import { readRunHistory } from './read-run-history.js';
import { reportHtml } from './report-html.js';
import { buildSummary } from './summary.js';

/** Paths `writeReport` wrote. */
export interface WrittenReport {
  /** `DIR/report.html`. */
  readonly html: string;
  /** `DIR/report/<chart>.svg`, one per chart drawn, in page order. */
  readonly charts: string[];
}

/**
 * Reads a training run directory and writes `DIR/report.html` (static, self-contained: inline SVG, no script, no
 * network) and each chart as `DIR/report/<chart>.svg`. Every file is written atomically (temporary file, then
 * rename), the HTML last; a chart the run no longer has data for is removed. Series are downsampled to at most
 * 2,000 points, so a long run reports quickly: safe to call at every checkpoint. Throws FatalError for a directory
 * that is not a run (no metrics.jsonl) or holds a corrupt line, naming the file and line.
 */
export async function writeReport(dir: string): Promise<WrittenReport> {
  const history = await readRunHistory(dir);
  // loaded here, once per process (~0.7 s), not by everything that imports the package
  const { renderSvg } = await import('./render-svg.js');
  const sections = buildSections(history);
  const chartDir = join(dir, 'report');
  await mkdir(chartDir, { recursive: true });
  const rendered = sections.map((section) => ({
    section,
    svg: section.kind === 'chart' ? renderSvg(section.option, section.height !== undefined ? { height: section.height } : {}) : null,
    href: section.kind === 'chart' ? `report/${section.id}.svg` : null,
  }));
  const charts: string[] = [];
  for (const r of rendered) {
    if (r.svg === null) continue;
    const file = join(chartDir, `${r.section.id}.svg`);
    await writeFileAtomic(file, r.svg);
    charts.push(file);
  }
  const drawn = new Set(rendered.filter((r) => r.svg !== null).map((r) => r.section.id));
  for (const id of CHART_IDS) if (!drawn.has(id)) await rm(join(chartDir, `${id}.svg`), { force: true });
  const html = join(dir, 'report.html');
  await writeFileAtomic(html, reportHtml({ dir, generatedAt: new Date(), summary: buildSummary(history), sections: rendered, notes: history.notes }));
  return { html, charts };
}
