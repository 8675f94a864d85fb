/**
 * Hand-written SVG of g(w) for A = +1 (solid) and A = -1 (dashed), one colour per method, on
 * w in [0.01, 5]: the figure behind `isreshape weights --plot FILE.svg`. No dependency.
 */
import type { ObjectiveConfig } from '../../protocol/objectiveConfig.js';
import { weightOf } from '../../learner/objectives/scalar.js';

const WIDTH = 760;
const HEIGHT = 480;
const MARGIN = { left: 60, right: 170, top: 40, bottom: 50 };
const W_MIN = 0.01;
const W_MAX = 5;
const POINTS = 250;
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over `span`. */
function tickStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/**
 * The SVG document (a string) for the given method configs; `gammaEss` feeds v3.1. Every
 * number drawn is computed by `weightOf`.
 */
export function weightsSvg(cfgs: readonly ObjectiveConfig[], gammaEss = 1): string {
  const ws = Array.from({ length: POINTS }, (_, i) => W_MIN + ((W_MAX - W_MIN) * i) / (POINTS - 1));
  const curves = cfgs.flatMap((cfg, k) =>
    [1, -1].map((A) => ({ cfg, A, colour: COLOURS[k % COLOURS.length], g: ws.map((w) => weightOf(cfg, w, A, gammaEss).g) })),
  );
  const gMax = Math.max(1, ...curves.flatMap((c) => c.g));
  const yStep = tickStep(gMax, 6);
  const yMax = Math.ceil(gMax / yStep) * yStep;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (w: number): number => MARGIN.left + (plotW * (w - 0)) / (W_MAX - 0);
  const y = (g: number): number => MARGIN.top + plotH * (1 - g / yMax);
  const f = (v: number): string => v.toFixed(2);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(`<text x="${MARGIN.left}" y="22" font-size="14">g(w, A): solid A = +1, dashed A = -1</text>`);
  // Axes and ticks.
  out.push(`<g stroke="#333" fill="none"><path d="M${MARGIN.left},${MARGIN.top} V${MARGIN.top + plotH} H${MARGIN.left + plotW}"/></g>`);
  for (let wt = 0; wt <= W_MAX + 1e-9; wt += 1) {
    out.push(`<line x1="${f(x(wt))}" y1="${MARGIN.top + plotH}" x2="${f(x(wt))}" y2="${MARGIN.top + plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(x(wt))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${wt}</text>`);
  }
  for (let k = 0; k * yStep <= yMax + 1e-9; k++) {
    const gt = k * yStep;
    out.push(`<line x1="${MARGIN.left - 5}" y1="${f(y(gt))}" x2="${MARGIN.left + plotW}" y2="${f(y(gt))}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${f(y(gt) + 4)}" text-anchor="end">${Number(gt.toPrecision(6))}</text>`);
  }
  out.push(`<line x1="${f(x(1))}" y1="${MARGIN.top}" x2="${f(x(1))}" y2="${MARGIN.top + plotH}" stroke="#bbb" stroke-dasharray="2,3"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">w = pi / mu</text>`);
  out.push(`<text transform="translate(16,${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">g</text>`);
  // Curves.
  for (const c of curves) {
    const d = ws.map((w, i) => `${i === 0 ? 'M' : 'L'}${f(x(w))},${f(y(c.g[i]))}`).join(' ');
    const dash = c.A < 0 ? ' stroke-dasharray="6,4"' : '';
    out.push(
      `<path d="${d}" fill="none" stroke="${c.colour}" stroke-width="1.6"${dash}><title>${escapeXml(c.cfg.method)} A=${c.A}</title></path>`,
    );
  }
  // Legend.
  cfgs.forEach((cfg, k) => {
    const ly = MARGIN.top + 10 + 20 * k;
    const lx = MARGIN.left + plotW + 20;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 36}" y="${ly + 4}">${escapeXml(cfg.method)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
