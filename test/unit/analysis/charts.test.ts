import { describe, expect, it } from 'vitest';
import {
  compareCurvesChart,
  entropyChart,
  essByLagChart,
  heatmapChart,
  klByLagChart,
  lagOverTimeChart,
  quadrantChart,
  returnCurveChart,
} from '../../../analysis/charts.js';
import { inlineSvg, renderSvg, svgToPng } from '../../../analysis/render.js';
import { lagTable, learningCurve } from '../../../analysis/tables.js';
import { bucket, makeUpdate } from '../../helpers/synthRun.js';

const updates = [1, 2, 3].map((v) =>
  makeUpdate({
    version: v,
    envSteps: 100 * v,
    lag: { min: 0, mean: v, max: 2 * v },
    lagBuckets: { '0': bucket(10), '4-7': bucket(30, { ess: 0.4 }) },
  }),
);
const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

describe('charts', () => {
  it('return curve renders one line path per series', async () => {
    const svg = await renderSvg(returnCurveChart(learningCurve(updates, null).points));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(count(svg, /role-mark[^"]*mark-line|class="mark-line role-mark/g)).toBe(1);
    expect(svg).toContain('Return vs env steps');
  });

  it('quadrant chart renders one bar per (bucket, quadrant) with a value', async () => {
    const svg = await renderSvg(quadrantChart(lagTable(updates)));
    // 2 buckets x 4 quadrants = 8 rect paths inside the rect mark group
    const group = svg.slice(svg.indexOf('class="mark-rect role-mark'));
    expect(count(group.slice(0, group.indexOf('</g>')), /<path /g)).toBe(8);
  });

  it('ESS chart has one point per (bucket, metric); lag chart has three lines', async () => {
    const ess = await renderSvg(essByLagChart(lagTable(updates)));
    const pts = ess.slice(ess.indexOf('class="mark-symbol role-mark'));
    expect(count(pts.slice(0, pts.indexOf('</g>')), /<path /g)).toBe(4);
    const lag = await renderSvg(lagOverTimeChart(updates));
    const lines = lag.slice(lag.indexOf('class="mark-group role-scope'));
    expect(count(lines, /class="mark-line role-mark/g)).toBe(3);
  });

  it('entropy chart draws one line over every update, plus the collapse threshold rule when given', async () => {
    const plain = await renderSvg(entropyChart(updates));
    expect(count(plain, /class="mark-line role-mark/g)).toBe(1);
    expect(count(plain, /class="mark-rule role-mark/g)).toBe(0);
    const withRule = await renderSvg(entropyChart(updates, 0.05));
    expect(count(withRule, /class="mark-rule role-mark/g)).toBe(1);
    expect(withRule).toContain('collapse threshold 0.05');
    expect(withRule).toContain('Entropy against steps');
  });

  it('facetted compare chart compiles and renders one panel per lag', async () => {
    const pts = ['none', 'fixed:4'].flatMap((lag) =>
      [0, 100].map((s) => ({ label: 'v5', lag, envSteps: s, mean: s, lo: s - 1, hi: s + 1 })),
    );
    const svg = await renderSvg(compareCurvesChart(pts, ['none', 'fixed:4']));
    expect(svg).toContain('fixed:4');
    expect(count(svg, /class="mark-area role-mark/g)).toBe(2);
  });

  it('PNG rasterisation works and inlining strips every URL', async () => {
    const svg = await renderSvg(returnCurveChart(learningCurve(updates, null).points));
    const png = svgToPng(svg);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(2000);
    const inl = inlineSvg(svg, 'return');
    expect(inl).not.toMatch(/https?:/);
    expect(inl.startsWith('<svg data-chart="return"')).toBe(true);
  });

  it('the return chart shows the final evaluation as its own points', async () => {
    const svg = await renderSvg(
      returnCurveChart(learningCurve(updates, null).points, { envSteps: 300, stochastic: 480, greedy: 490, episodes: 100 }),
    );
    expect(svg).toContain('final eval stochastic (100 ep)');
    expect(svg).toContain('with the final 100-episode evaluation');
    // The last symbol mark is the final-evaluation layer (the first is the line's own points).
    const pts = svg.slice(svg.lastIndexOf('class="mark-symbol role-mark'));
    expect(count(pts.slice(0, pts.indexOf('</g>')), /<path /g)).toBe(2);
  });

  it('tick labels read 0 for float noise, 100k for thousands, never 0.0000000000000016', async () => {
    const tiny = [1, 2].map((v) =>
      makeUpdate({ version: v, envSteps: 50_000 * v, lagBuckets: { '0': bucket(10, { klMuPiK3: 1.6e-15, klPiMu: -2e-16 }) } }),
    );
    const text = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)</g)].map((m) => m[1]);
    const kl = text(await renderSvg(klByLagChart(lagTable(tiny))));
    expect(kl).toContain('0');
    expect(kl.filter((t) => /0\.0000000000|e-1[56]/.test(t!))).toEqual([]);
    const ent = text(await renderSvg(entropyChart(tiny)));
    expect(ent).toContain('100k');
    expect(ent).toContain('0.6');
    expect(ent).not.toContain('100,000');
  });

  it('heatmap: one rect per cell, each number printed, sized to its cells', async () => {
    const cells = ['a', 'b'].flatMap((row) => ['none', 'fixed:4', 'fixed:8'].map((lag, i) => ({ row, lag, value: i, text: `${row}${i}` })));
    const c = heatmapChart('h', 'heat', cells, ['a', 'b'], ['none', 'fixed:4', 'fixed:8'], 'v');
    expect(c.spec).toMatchObject({ width: 3 * 84, height: 2 * 30 });
    const svg = await renderSvg(c);
    const rects = svg.slice(svg.indexOf('class="mark-rect role-mark'));
    expect(count(rects.slice(0, rects.indexOf('</g>')), /<path /g)).toBe(6);
    for (const t of ['a0', 'a2', 'b1']) expect(svg).toContain(`>${t}<`);
  });
});
