/**
 * Writing a report: `report.html` (one self-contained file: inline CSS and SVG, no scripts, no
 * URLs) and `charts/<name>.png` beside it. Rendering happens here; the content comes from
 * analyzeRun / compareRuns.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Analysis } from './analyzeRun.js';
import { escapeHtml, renderHtml } from './format.js';
import { inlineSvg, renderSvg, svgToPng } from './render.js';

export interface ReportFiles {
  html: string;
  pngs: string[];
  /** Number of charts (= inline <svg> elements) in the HTML. */
  charts: number;
}

const CSS = `
body { font-family: 'DejaVu Sans', Arial, sans-serif; margin: 24px; color: #222; max-width: 1240px; }
h1 { font-size: 22px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
.note { font-size: 12px; color: #555; max-width: 900px; }
.warn { color: #8a4b00; font-size: 13px; }
figure { margin: 16px 0; } figcaption { font-size: 11px; color: #777; }
.summary p { font-size: 14px; max-width: 900px; margin: 6px 0; }
svg { max-width: 100%; height: auto; }
`;

/**
 * Render `a` in its layout order (answer first, parsing notes last) and write
 * `<outDir>/report.html` plus `<outDir>/charts/<name>.png` (2x pixel density). Creates `outDir`;
 * rejects if a chart fails to render or a file cannot be written.
 */
export async function writeReport(outDir: string, title: string, a: Analysis<unknown>): Promise<ReportFiles> {
  const chartDir = join(outDir, 'charts');
  await mkdir(chartDir, { recursive: true });
  const pngs: string[] = [];
  const parts: string[] = [];
  for (const b of a.layout) {
    if (b.kind === 'table') {
      if (!b.textOnly) parts.push(renderHtml(b.table));
    } else if (b.kind === 'text')
      parts.push(
        `<section class="summary"><h2>${escapeHtml(b.title)}</h2>${b.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</section>`,
      );
    else {
      const c = b.chart;
      const svg = await renderSvg(c);
      const png = join(chartDir, `${c.name}.png`);
      await writeFile(png, svgToPng(svg, 2));
      pngs.push(png);
      // The chart carries its own title; the caption only names the PNG.
      parts.push(`<figure>${inlineSvg(svg, c.name)}<figcaption>charts/${escapeHtml(c.name)}.png</figcaption></figure>`);
    }
  }
  const warnings =
    a.warnings.length > 0
      ? `<section><h2>Log warnings</h2><ul>${a.warnings.map((w) => `<li class="warn">${escapeHtml(w)}</li>`).join('')}</ul></section>`
      : '';
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${parts.join('\n')}
${warnings}
</body></html>
`;
  const htmlPath = join(outDir, 'report.html');
  await writeFile(htmlPath, html);
  return { html: htmlPath, pngs, charts: pngs.length };
}
