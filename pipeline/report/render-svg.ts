import { createRequire } from 'node:module';
import { CHART_WIDTH, type ChartOption } from './charts/chart-kit.js';

// ECharts' prebuilt single-file bundle: loading its ESM build means hundreds of modules (~3 s under tsx on a busy
// 2-core machine, ~0.7 s under node), the bundle is one file (~0.2 s under node)
const echarts = createRequire(import.meta.url)('echarts') as typeof import('echarts');

/** Default chart height, px. */
export const CHART_HEIGHT = 320;

/** Renders an ECharts option to a standalone SVG string server-side (no DOM, no network), animation off. */
export function renderSvg(option: ChartOption, size: { width?: number; height?: number } = {}): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width ?? CHART_WIDTH, height: size.height ?? CHART_HEIGHT });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
