import type { RunHistory } from '../run-history.js';
import { colour, PALETTE, type ReportSection } from './chart-kit.js';

/** Quarantined records by `<stage>.<reason>`, a horizontal bar each, largest first. */
export function quarantineChart(h: RunHistory): ReportSection {
  const id = 'quarantine';
  const title = 'Quarantined records by reason';
  const counts = h.quarantineByReason;
  if (!counts) return { kind: 'note', id, title, note: 'Neither run.json nor quarantine.jsonl is there yet: no quarantine counts.' };
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rows.length === 0) return { kind: 'note', id, title, note: 'No record was quarantined.' };
  const longest = Math.max(...rows.map(([k]) => k.length));
  return {
    kind: 'chart', id, title,
    height: Math.max(160, 90 + rows.length * 28),
    option: {
      animation: false,
      color: [...PALETTE],
      title: { text: title, left: 'center', top: 4, textStyle: { fontSize: 14 } },
      grid: { left: Math.min(360, 24 + longest * 7), right: 64, top: 40, bottom: 36 },
      xAxis: { type: 'value', name: 'records', nameLocation: 'middle', nameGap: 24, minInterval: 1 },
      yAxis: { type: 'category', data: rows.map(([k]) => k), inverse: true, axisLabel: { fontSize: 11 } },
      series: [{
        type: 'bar',
        name: 'quarantined',
        data: rows.map(([, v]) => v),
        itemStyle: { color: colour(8) },
        label: { show: true, position: 'right', fontSize: 11 },
        barMaxWidth: 22,
      }],
    },
    caption: `From ${h.quarantineSource}${h.quarantineSource === 'quarantine.jsonl' ? ' (the run has not written run.json yet)' : ''}.`,
  };
}
