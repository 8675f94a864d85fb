/**
 * Vega-Lite chart specs built from analysis tables. Pure: each function returns a named spec;
 * `render.ts` turns specs into SVG and PNG. Every chart is one top-level view, so one <svg>.
 */
import type { TopLevelSpec } from 'vega-lite';
import { LAG_BUCKETS, type UpdateRecord } from '../protocol/records.js';
import { QUADRANT_KEYS, type CurvePoint, type LagRow } from './tables.js';

export interface Chart {
  /** File-name safe: charts/<name>.png. */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

const W = 560;
/**
 * Tick labels for people: float noise (|x| < 1e-12) reads 0, thousands read 100k, the rest
 * without trailing zeros, instead of vega's step-based 0.0000000000000016.
 */
const AXIS_LABEL = "abs(datum.value) < 1e-12 ? '0' : abs(datum.value) >= 10000 ? format(datum.value, '~s') : format(datum.value, '~r')";

/** A value for a chart: float noise below 1e-12 becomes 0, so an on-policy KL axis reads 0. */
export function tidy(x: number): number {
  return Math.abs(x) < 1e-12 ? 0 : x;
}
const H = 260;
const BUCKET_ORDER: string[] = [...LAG_BUCKETS];

/** The summary's final evaluation, drawn as its own point at the end of the return chart. */
export interface FinalEvalPoint {
  /** Training env steps at the end of the run (where the points sit), not the steps the evaluation used. */
  envSteps: number;
  stochastic: number;
  greedy: number;
  episodes: number;
}

/**
 * Return vs env steps, one line per series present (eval stochastic, eval greedy, behaviour),
 * and the final evaluation (summary finalEval, 100 episodes by default) as large points.
 */
export function returnCurveChart(points: readonly CurvePoint[], finalEval: FinalEvalPoint | null = null, name = 'return'): Chart {
  const values: { envSteps: number; series: string; return: number }[] = [];
  for (const p of points) {
    if (p.stochastic !== undefined) values.push({ envSteps: p.envSteps, series: 'eval stochastic', return: p.stochastic });
    if (p.greedy !== undefined) values.push({ envSteps: p.envSteps, series: 'eval greedy', return: p.greedy });
    if (p.behaviour !== undefined) values.push({ envSteps: p.envSteps, series: 'behaviour mean100', return: p.behaviour });
  }
  const x = { field: 'envSteps', type: 'quantitative' as const, title: 'env steps' };
  const color = { field: 'series', type: 'nominal' as const, title: 'series' };
  const line = {
    data: { values },
    mark: { type: 'line', point: values.length < 60 },
    encoding: { x, y: { field: 'return', type: 'quantitative', title: 'return' }, color },
  };
  if (!finalEval) return chart(name, 'Return vs env steps', line);
  const fe = [
    { envSteps: finalEval.envSteps, series: `final eval stochastic (${finalEval.episodes} ep)`, return: finalEval.stochastic },
    { envSteps: finalEval.envSteps, series: `final eval greedy (${finalEval.episodes} ep)`, return: finalEval.greedy },
  ];
  // The final evaluation has its own colour scale and legend, so its legend entries are diamonds
  // like its marks (a shared legend draws every entry with the line layer's stroke symbol).
  return chart(name, `Return vs env steps, with the final ${finalEval.episodes}-episode evaluation`, {
    layer: [
      line,
      {
        data: { values: fe },
        mark: { type: 'point', shape: 'diamond', size: 140, filled: true },
        encoding: {
          x,
          y: { field: 'return', type: 'quantitative' },
          color: {
            field: 'series',
            type: 'nominal' as const,
            title: 'final evaluation',
            scale: { range: ['#d62728', '#9467bd'] },
            legend: { symbolType: 'diamond' },
          },
        },
      },
    ],
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  });
}

/** Normalised ESS of w and of g per lag bucket (the 'all' row excluded). */
export function essByLagChart(rows: readonly LagRow[]): Chart {
  return metricsByLag('ess-by-lag', 'ESS by lag bucket', rows, [
    ['ESS(w)', (r) => r.ess],
    ['ESS(g)', (r) => r.essG],
  ]);
}

/** KL(mu||pi) (k3) and KL(pi||mu) per lag bucket. */
export function klByLagChart(rows: readonly LagRow[]): Chart {
  return metricsByLag('kl-by-lag', 'KL by lag bucket', rows, [
    ['KL(mu||pi) k3', (r) => r.klMuPiK3],
    ['KL(pi||mu)', (r) => r.klPiMu],
  ]);
}

/** Mean g per quadrant (w>1 or w<=1) x (A>0 or A<=0), grouped by lag bucket. */
export function quadrantChart(rows: readonly LagRow[]): Chart {
  const values: { bucket: string; quadrant: string; meanG: number }[] = [];
  for (const r of rows) {
    if (r.bucket === 'all') continue;
    for (const q of QUADRANT_KEYS) {
      const g = r.quadrantG[q];
      if (g !== null) values.push({ bucket: r.bucket, quadrant: QUADRANT_LABEL[q], meanG: tidy(g) });
    }
  }
  const buckets = new Set(values.map((v) => v.bucket)).size;
  return chart('g-by-quadrant', 'Mean g per quadrant and lag bucket', {
    width: Math.max(240, buckets * 4 * 22),
    height: 200,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: BUCKET_ORDER, title: 'lag bucket (versions)', axis: { labelAngle: 0 } },
      xOffset: { field: 'quadrant', type: 'nominal' },
      y: { field: 'meanG', type: 'quantitative', title: 'mean g' },
      color: { field: 'quadrant', type: 'nominal', title: 'quadrant' },
    },
  });
}

/** Lag min / mean / max (versions) against learner version. */
export function lagOverTimeChart(updates: readonly UpdateRecord[]): Chart {
  const values = updates.flatMap((u) => [
    { version: u.version, stat: 'min', lag: u.lag.min },
    { version: u.version, stat: 'mean', lag: u.lag.mean },
    { version: u.version, stat: 'max', lag: u.lag.max },
  ]);
  return chart('lag-over-time', 'Policy lag over time', {
    data: { values },
    mark: 'line',
    encoding: {
      x: { field: 'version', type: 'quantitative', title: 'learner version' },
      y: { field: 'lag', type: 'quantitative', title: 'lag (versions)' },
      color: { field: 'stat', type: 'nominal', sort: ['min', 'mean', 'max'], title: 'lag' },
    },
  });
}

/**
 * Policy entropy (nats, before each update) against env steps; with `collapseEntropy`, a dashed
 * rule at the threshold below which a policy worse than random is flagged collapsed.
 */
export function entropyChart(updates: readonly UpdateRecord[], collapseEntropy?: number): Chart {
  const values = updates.filter((u) => Number.isFinite(u.entropy)).map((u) => ({ envSteps: u.envSteps, entropy: u.entropy }));
  const line = {
    data: { values },
    mark: 'line',
    encoding: {
      x: { field: 'envSteps', type: 'quantitative', title: 'env steps' },
      y: { field: 'entropy', type: 'quantitative', title: 'entropy (nats)' },
    },
  };
  if (collapseEntropy === undefined) return chart('entropy', 'Entropy against steps', line);
  return chart('entropy', 'Entropy against steps', {
    layer: [
      line,
      {
        data: { values: [{ y: collapseEntropy, label: `collapse threshold ${collapseEntropy}` }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#b00' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: [{ y: collapseEntropy, label: `collapse threshold ${collapseEntropy}` }] },
        mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#b00' },
        encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
      },
    ],
  });
}

/** One point of a seed-averaged curve for the compare report. */
export interface BandPoint {
  label: string;
  lag: string;
  envSteps: number;
  mean: number;
  lo: number | null;
  hi: number | null;
}

/** Seed-mean return curves overlaid per method (colour), one panel per lag, 95% CI band. */
export function compareCurvesChart(
  points: readonly BandPoint[],
  lagOrder: readonly string[],
  title = 'Return vs env steps (mean over seeds, 95% CI band)',
): Chart {
  return chart(
    'compare-return',
    title,
    {
      data: { values: points as BandPoint[] },
      facet: { column: { field: 'lag', type: 'ordinal', sort: [...lagOrder], title: 'lag' } },
      spec: {
        width: 240,
        height: 200,
        layer: [
          {
            mark: { type: 'area', opacity: 0.2 },
            encoding: {
              x: { field: 'envSteps', type: 'quantitative', title: 'env steps' },
              y: { field: 'lo', type: 'quantitative' },
              y2: { field: 'hi' },
              color: { field: 'label', type: 'nominal', title: 'method' },
            },
          },
          {
            mark: 'line',
            encoding: {
              x: { field: 'envSteps', type: 'quantitative' },
              y: { field: 'mean', type: 'quantitative', title: 'return' },
              color: { field: 'label', type: 'nominal', title: 'method' },
            },
          },
        ],
      },
    },
    false,
  );
}

/** One (method, lag) cell of a method x lag figure. */
export interface LagCell {
  label: string;
  lag: string;
  mean: number;
  lo: number | null;
  hi: number | null;
}

/** A metric per method against lag: line through means with 95% CI error bars. */
export function metricVsLagChart(
  name: string,
  title: string,
  yTitle: string,
  cells: readonly LagCell[],
  lagOrder: readonly string[],
): Chart {
  const x = { field: 'lag', type: 'ordinal' as const, sort: [...lagOrder], title: 'lag', axis: { labelAngle: 0 } };
  const color = { field: 'label', type: 'nominal' as const, title: 'method' };
  return chart(name, title, {
    data: { values: cells as LagCell[] },
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: yTitle }, color } },
      { mark: 'rule', encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
    ],
  });
}

/** One cell of a method x lag heatmap. */
export interface HeatCell {
  row: string;
  lag: string;
  value: number;
  /** The number printed in the cell. */
  text: string;
}

/** Method (rows) x lag (columns) heatmap with each cell's number printed; sized to its cells. */
export function heatmapChart(
  name: string,
  title: string,
  cells: readonly HeatCell[],
  rowOrder: readonly string[],
  lagOrder: readonly string[],
  legend: string,
  domain?: [number, number],
  scheme = 'viridis',
): Chart {
  const x = { field: 'lag', type: 'ordinal' as const, sort: [...lagOrder], title: 'lag', axis: { labelAngle: 0, orient: 'top' as const } };
  // Whole row labels: Vega-Lite cuts them at 180 px, and rows that differ only in their last
  // condition (e.g. behaviour=mix:0 vs mix:1) would read alike.
  const y = { field: 'row', type: 'ordinal' as const, sort: [...rowOrder], title: null, axis: { labelLimit: 0 } };
  const vals = cells.map((c) => c.value);
  const mid = domain ? (domain[0] + domain[1]) / 2 : vals.length > 0 ? (Math.min(...vals) + Math.max(...vals)) / 2 : 0;
  // Dark cells (low on viridis, high on reds) get white text.
  return chart(
    name,
    title,
    {
      width: Math.max(120, lagOrder.length * 84),
      height: Math.max(40, rowOrder.length * 30),
      data: { values: cells as HeatCell[] },
      layer: [
        {
          mark: 'rect',
          encoding: {
            x,
            y,
            color: { field: 'value', type: 'quantitative', title: legend, scale: { scheme, ...(domain ? { domain } : {}) } },
          },
        },
        {
          mark: { type: 'text', fontSize: 12 },
          encoding: {
            x,
            y,
            text: { field: 'text' },
            color: { condition: { test: `datum.value ${scheme === 'reds' ? '>' : '<'} ${mid}`, value: 'white' }, value: 'black' },
          },
        },
      ],
    },
    false,
  );
}

/** One point of a metric against a varied config flag. */
export interface FlagCell {
  label: string;
  lag: string;
  value: string;
  y: number;
  lo: number;
  hi: number;
}

/** A metric against the values of one varied config flag: points with CI rules per method, one panel per lag. */
export function metricVsFlagChart(
  name: string,
  title: string,
  flag: string,
  yTitle: string,
  cells: readonly FlagCell[],
  lagOrder: readonly string[],
): Chart {
  const x = { field: 'value', type: 'ordinal' as const, title: flag, axis: { labelAngle: 0 } };
  const color = { field: 'label', type: 'nominal' as const, title: 'method' };
  const n = new Set(cells.map((c) => c.value)).size;
  return chart(
    name,
    title,
    {
      data: { values: cells as FlagCell[] },
      facet: { column: { field: 'lag', type: 'ordinal', sort: [...lagOrder], title: 'lag' } },
      spec: {
        width: Math.max(120, n * 60),
        height: 180,
        layer: [
          {
            mark: { type: 'point', filled: true, size: 60 },
            encoding: { x, xOffset: { field: 'label' }, y: { field: 'y', type: 'quantitative', title: yTitle }, color },
          },
          {
            mark: 'rule',
            encoding: { x, xOffset: { field: 'label' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color },
          },
        ],
      },
    },
    false,
  );
}

/** One point of a performance profile. */
export interface ProfilePoint {
  label: string;
  lag: string;
  tau: number;
  fraction: number;
}

/** Performance profiles: fraction of runs with normalised return above tau, per method, one panel per lag. */
export function profileChart(points: readonly ProfilePoint[], lagOrder: readonly string[]): Chart {
  return chart(
    'profile',
    'Performance profile: fraction of runs with normalised final return > tau (0 = random policy, 1 = task maximum)',
    {
      data: { values: points as ProfilePoint[] },
      facet: { column: { field: 'lag', type: 'ordinal', sort: [...lagOrder], title: 'lag' } },
      spec: {
        width: 200,
        height: 160,
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'tau', type: 'quantitative', title: 'tau (normalised return)', scale: { domain: [0, 1] } },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of runs > tau', scale: { domain: [0, 1] } },
          color: { field: 'label', type: 'nominal', title: 'method' },
        },
      },
    },
    false,
  );
}

const QUADRANT_LABEL: Record<(typeof QUADRANT_KEYS)[number], string> = {
  wHighAPos: 'w>1, A>0',
  wHighANeg: 'w>1, A<=0',
  wLowAPos: 'w<=1, A>0',
  wLowANeg: 'w<=1, A<=0',
};

function metricsByLag(name: string, title: string, rows: readonly LagRow[], metrics: [string, (r: LagRow) => number | null][]): Chart {
  const values: { bucket: string; metric: string; value: number }[] = [];
  for (const r of rows) {
    if (r.bucket === 'all') continue;
    for (const [m, f] of metrics) {
      const v = f(r);
      if (v !== null) values.push({ bucket: r.bucket, metric: m, value: tidy(v) });
    }
  }
  const buckets = new Set(values.map((v) => v.bucket)).size;
  return chart(name, title, {
    width: Math.max(200, buckets * 90),
    height: 180,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: BUCKET_ORDER, title: 'lag bucket (versions)', axis: { labelAngle: 0 } },
      y: { field: 'value', type: 'quantitative', title: '' },
      color: { field: 'metric', type: 'nominal', title: 'metric' },
    },
  });
}

function chart(name: string, title: string, body: Record<string, unknown>, sized = true): Chart {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    ...(sized ? { width: W, height: H } : {}),
    config: { font: 'DejaVu Sans, sans-serif', axisQuantitative: { labelExpr: AXIS_LABEL }, legend: { labelLimit: 260 } },
    ...body,
  } as TopLevelSpec;
  return { name, title, spec };
}
