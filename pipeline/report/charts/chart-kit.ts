import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption, LegendComponentOption, MarkLineComponentOption, TitleComponentOption,
} from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import type { PhaseSpan, RunHistory } from '../run-history.js';

/** The ECharts option a report chart is drawn from (only the parts `renderSvg` registers). */
export type ChartOption = ComposeOption<
  LineSeriesOption | BarSeriesOption | GridComponentOption | LegendComponentOption | TitleComponentOption | MarkLineComponentOption
>;

/** One part of the report: a chart (written as `report/<id>.svg` and inlined in the HTML) or a note standing in for it. */
export type ReportSection =
  | { readonly kind: 'chart'; readonly id: string; readonly title: string; readonly caption: string; readonly option: ChartOption; readonly height?: number }
  | { readonly kind: 'note'; readonly id: string; readonly title: string; readonly note: string };

/** Series colours, fixed so that a phase or stage keeps its colour from one report to the next. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#bab0ac', '#e15759', '#ff9da7'] as const;
/** Colour of the reference series (hardest loss) and of markers. */
export const INK = '#333333';
/** Colour of the collapse marker. */
export const ALARM = '#d62728';

/** The colour of series `i`. */
export const colour = (i: number): string => PALETTE[i % PALETTE.length] as string;

/** Width of every chart, px; heights vary with the legend and the number of bars. */
export const CHART_WIDTH = 800;

/** Gap between legend entries, across and down, px. */
const LEGEND_GAP = 14;
/** Height of a legend row: 11px text and the gap. */
const LEGEND_ROW = 11 + LEGEND_GAP;

/** Legend rows ECharts needs for these names across the chart (its text is not measured server-side, so estimated). */
export function legendRows(names: readonly string[], width = CHART_WIDTH - 40): number {
  let rows = 1;
  let x = 0;
  for (const n of names) {
    const w = 18 + 5 + n.length * 6.5 + LEGEND_GAP;
    if (x > 0 && x + w > width) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows;
}

/** A chart section with steps on the x axis (y linear, or log with `log`), a legend under the title, and room for every legend row. */
export function stepSection(
  id: string, title: string, caption: string, yName: string, series: LineSeriesOption[], opts: { yMin?: number; yMax?: number; log?: boolean } = {},
): ReportSection {
  const rows = legendRows(series.map((s) => String(s.name ?? '')));
  // below the legend: the y axis name and the phase-switch labels
  const top = 28 + rows * LEGEND_ROW + 30;
  return {
    kind: 'chart', id, title, caption,
    height: 250 + top,
    option: {
      animation: false,
      color: [...PALETTE],
      title: { text: title, left: 'center', top: 4, textStyle: { fontSize: 14 } },
      legend: { top: 28, left: 'center', itemWidth: 18, itemHeight: 8, itemGap: LEGEND_GAP, textStyle: { fontSize: 11 } },
      grid: { left: 64, right: 32, top, bottom: 44 },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, min: 'dataMin', max: 'dataMax' },
      yAxis: opts.log
        ? { type: 'log', name: yName, nameTextStyle: { align: 'left' } }
        : {
          type: 'value', name: yName, nameTextStyle: { align: 'left' }, scale: true,
          ...(opts.yMin !== undefined && { min: opts.yMin }), ...(opts.yMax !== undefined && { max: opts.yMax }),
        },
      series,
    },
  };
}

/** A line series of `[step, value]` points; symbols only when there are few points. */
export function line(name: string, data: Array<[number, number]>, extra: Partial<LineSeriesOption> = {}): LineSeriesOption {
  const { lineStyle, ...rest } = extra;
  return { type: 'line', name, data, showSymbol: data.length <= 60, symbolSize: 4, ...rest, lineStyle: { width: 1.5, ...lineStyle } };
}

/** Label of a curriculum phase: `phase 1 · batch-hard (64)`. */
export function phaseLabel(p: PhaseSpan): string {
  const size = Number.isFinite(p.batchSize) ? ` (${p.batchSize})` : '';
  return `phase ${Number.isFinite(p.phase) ? p.phase : '?'} · ${p.miner}${size}`;
}

/** Vertical markers at each phase switch, labelled with the new phase's miner and batch size. */
export function phaseMarkers(h: RunHistory): Array<NonNullable<MarkLineComponentOption['data']>[number]> {
  return h.phases.slice(1).map((p) => ({
    xAxis: p.fromStep,
    name: phaseLabel(p),
    lineStyle: { color: INK, type: 'dashed' as const, width: 1 },
    label: { formatter: `${p.miner} (${p.batchSize})`, position: 'end' as const, fontSize: 10, color: INK },
  }));
}

/** A vertical marker at the step the collapse detector fired (run.json), or none. */
export function collapseMarkers(h: RunHistory): Array<NonNullable<MarkLineComponentOption['data']>[number]> {
  const c = h.run?.collapse;
  if (!c?.fired || c.atStep === null) return [];
  return [{
    xAxis: c.atStep,
    name: 'collapse',
    lineStyle: { color: ALARM, type: 'solid' as const, width: 2 },
    label: { formatter: `collapse at step ${c.atStep}`, position: 'insideEndBottom' as const, fontSize: 11, color: ALARM },
  }];
}

/** A markLine block holding `data` (vertical or horizontal marker lines), or nothing when `data` is empty. */
export function markLines(data: NonNullable<MarkLineComponentOption['data']>): Pick<LineSeriesOption, 'markLine'> {
  return data.length === 0 ? {} : { markLine: { symbol: 'none', silent: true, animation: false, data } };
}
