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
const H = 260;
const BUCKET_ORDER: string[] = [...LAG_BUCKETS];

/** Return vs env steps, one line per series present (eval stochastic, eval greedy, behaviour). */
export function returnCurveChart(points: readonly CurvePoint[], name = 'return'): Chart {
  const values: { envSteps: number; series: string; return: number }[] = [];
  for (const p of points) {
    if (p.stochastic !== undefined) values.push({ envSteps: p.envSteps, series: 'eval stochastic', return: p.stochastic });
    if (p.greedy !== undefined) values.push({ envSteps: p.envSteps, series: 'eval greedy', return: p.greedy });
    if (p.behaviour !== undefined) values.push({ envSteps: p.envSteps, series: 'behaviour mean100', return: p.behaviour });
  }
  return chart(name, 'Return vs env steps', {
    data: { values },
    mark: { type: 'line', point: values.length < 60 },
    encoding: {
      x: { field: 'envSteps', type: 'quantitative', title: 'env steps' },
      y: { field: 'return', type: 'quantitative', title: 'return' },
      color: { field: 'series', type: 'nominal', title: 'series' },
    },
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
      if (g !== null) values.push({ bucket: r.bucket, quadrant: QUADRANT_LABEL[q], meanG: g });
    }
  }
  return chart('g-by-quadrant', 'Mean g per quadrant and lag bucket', {
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
export function compareCurvesChart(points: readonly BandPoint[], lagOrder: readonly string[], title = 'Return vs env steps (mean over seeds, 95% CI band)'): Chart {
  return chart('compare-return', title, {
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
  }, false);
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
export function metricVsLagChart(name: string, title: string, yTitle: string, cells: readonly LagCell[], lagOrder: readonly string[]): Chart {
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
      if (v !== null) values.push({ bucket: r.bucket, metric: m, value: v });
    }
  }
  return chart(name, title, {
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
    config: { font: 'DejaVu Sans, sans-serif' },
    ...body,
  } as TopLevelSpec;
  return { name, title, spec };
}
