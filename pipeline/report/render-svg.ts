import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { CHART_WIDTH, type ChartOption } from './charts/chart-kit.js';

// only what the report draws, so that loading is quicker than the full bundle
echarts.use([LineChart, BarChart, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, SVGRenderer]);

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
