/**
 * Server-side chart rendering: Vega-Lite spec -> Vega (compile) -> SVG (vega View with the
 * 'none' renderer; text is measured by estimate since `canvas` is not installed) -> PNG
 * (resvg, with the machine's system fonts).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { Chart } from './charts.js';

/** Render a chart to a standalone SVG document string. Rejects if the spec does not compile. */
export async function renderSvg(chart: Chart): Promise<string> {
  const vgSpec = compile(chart.spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG string to PNG bytes, at `scale` x the SVG's size, with system fonts. */
export function svgToPng(svg: string, scale = 1): Buffer {
  const r = new Resvg(svg, {
    fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return r.render().asPng();
}

/**
 * Make an SVG document suitable for inlining into HTML: drop the xmlns declarations (implied
 * inside HTML) so the report holds no URL at all, and tag it with the chart name.
 */
export function inlineSvg(svg: string, name: string): string {
  return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '').replace(/^<svg /, `<svg data-chart="${name}" role="img" `);
}
