import type { ReportSection } from './charts/chart-kit.js';
import type { ReportSummary } from './summary.js';

/** What `reportHtml` lays out. */
export interface ReportPage {
  /** The run directory, shown in the title. */
  readonly dir: string;
  readonly generatedAt: Date;
  readonly summary: ReportSummary;
  /** Each section with its rendered SVG (charts) and its file relative to the HTML (`report/loss.svg`). */
  readonly sections: ReadonlyArray<{ readonly section: ReportSection; readonly svg: string | null; readonly href: string | null }>;
  /** Notes on missing or partial files. */
  readonly notes: readonly string[];
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const score = (v: number | null): string => (v === null ? '—' : v.toFixed(3));
const delta = (a: number | null, b: number | null): string => (a === null || b === null ? '—' : `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(3)}`);

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 24px auto; max-width: 880px; padding: 0 16px; }
h1 { font-size: 20px; margin-bottom: 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; } td, th { border-bottom: 1px solid #e4e4e4; padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 16px 0 28px; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 13px; } .note { background: #f6f6f6; border-left: 3px solid #bbb; padding: 8px 12px; }
ul.notes { color: #8a5300; }
`;

/** A static, self-contained HTML page: summary tables and every chart's SVG inline; no script, no external resource. */
export function reportHtml(page: ReportPage): string {
  const { summary } = page;
  const facts = summary.facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  const scores = summary.scores.length === 0
    ? '<p class="note">No evaluation: eval.json and run.json hold no scores.</p>'
    : `<table><tr><th>metric</th><th>untrained</th><th>final</th><th>change</th></tr>\n${summary.scores.map((r) =>
      `<tr><th>${escapeHtml(r.metric)}</th><td class="num">${score(r.untrained)}</td><td class="num">${score(r.final)}</td><td class="num">${delta(r.untrained, r.final)}</td></tr>`).join('\n')}</table>`;
  const records = summary.records.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="num">${escapeHtml(v)}</td></tr>`).join('\n');
  const notes = page.notes.length === 0 ? '' : `<ul class="notes">${page.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`;
  const sections = page.sections.map(({ section: s, svg, href }) => {
    if (s.kind === 'note' || svg === null) {
      return `<section id="${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2><p class="note">${escapeHtml(s.kind === 'note' ? s.note : '')}</p></section>`;
    }
    const link = href ? ` <a href="${escapeHtml(href)}">${escapeHtml(href.split('/').pop() ?? href)}</a>` : '';
    return `<section id="${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2><figure>\n${svg}\n<figcaption>${escapeHtml(s.caption)}${link}</figcaption></figure></section>`;
  }).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tripletflow report: ${escapeHtml(page.dir)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>tripletflow run report</h1>
<p class="meta">${escapeHtml(page.dir)} · generated ${escapeHtml(page.generatedAt.toISOString())}</p>
${notes}
<h2>Summary</h2>
<table>
${facts}
</table>
<h2>Final vs untrained</h2>
${scores}
<h2>Records</h2>
<table>
${records}
</table>
${sections}
</body>
</html>
`;
}
