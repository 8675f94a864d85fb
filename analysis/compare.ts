/**
 * Comparing runs: group by (method label, lag), mean and 95% CI over seeds, seed-averaged
 * return curves, a rank table per lag with Welch's test against the best, and method x lag
 * tables of final return and ESS. Pure: takes RunData, returns figures, tables and charts.
 */
import type { Analysis } from './analyzeRun.js';
import { compareCurvesChart, metricVsLagChart, type BandPoint, type Chart, type LagCell } from './charts.js';
import { meanPm, num, type Table } from './format.js';
import type { RunData } from './read.js';
import { meanCI, rankWithTies, TIE_TEST_NAME, type MeanCI } from './stats.js';
import { lagTable, learningCurve, primarySeries } from './tables.js';

/** Per-run figures used for comparison. */
export interface RunPoint {
  dir: string;
  label: string;
  lag: string;
  seed: number;
  finalReturn: number | null;
  auc: number | null;
  stepsToThreshold: number | null;
  /** Sample-weighted ESS of w over the run. */
  ess: number | null;
  curve: [number, number][];
}

export interface GroupFigures {
  label: string;
  lag: string;
  seeds: number[];
  finalReturn: MeanCI | null;
  auc: MeanCI | null;
  ess: MeanCI | null;
  /** Seeds that reached the threshold, and the mean steps among them. */
  reached: number;
  stepsToThresholdMean: number | null;
}

export interface CompareFigures {
  threshold: number;
  test: string;
  runs: Omit<RunPoint, 'curve'>[];
  groups: GroupFigures[];
  lags: string[];
  labels: string[];
  ranks: { lag: string; rows: { label: string; rank: number; n: number; mean: number; halfWidth: number | null; p: number | null; tied: boolean | null; note: string }[] }[];
}

/** Sort key of a lag spec: none = 0, fixed:K = K, uniform:a-b = (a+b)/2, geometric:m = m; unknown last. */
export function lagSortKey(lag: string): number {
  if (lag === 'none') return 0;
  const m = /^(fixed|geometric):(\d+(?:\.\d+)?)$/.exec(lag);
  if (m) return Number(m[2]);
  const u = /^uniform:(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(lag);
  if (u) return (Number(u[1]) + Number(u[2])) / 2;
  return Number.POSITIVE_INFINITY;
}

/** Compare runs (any number of labels, lags and seeds); `threshold` as in analyze. */
export function compareRuns(runs: readonly RunData[], threshold: number): Analysis<CompareFigures> {
  const points: RunPoint[] = runs.map((r) => {
    const c = learningCurve(r.updates, r.summary, threshold);
    const all = lagTable(r.updates).find((row) => row.bucket === 'all');
    return {
      dir: r.dir,
      label: r.config.label,
      lag: r.config.lag,
      seed: r.config.seed,
      finalReturn: c.finalReturn,
      auc: c.auc,
      stepsToThreshold: c.stepsToThreshold,
      ess: all?.ess ?? null,
      curve: primarySeries(c.points, c.source),
    };
  });
  const lags = [...new Set(points.map((p) => p.lag))].sort((a, b) => lagSortKey(a) - lagSortKey(b) || a.localeCompare(b));
  const labels = [...new Set(points.map((p) => p.label))].sort();
  const cells = new Map<string, RunPoint[]>();
  for (const p of points) cells.set(key(p.label, p.lag), [...(cells.get(key(p.label, p.lag)) ?? []), p]);

  const groups: GroupFigures[] = [];
  const bands: BandPoint[] = [];
  for (const lag of lags) {
    for (const label of labels) {
      const ps = cells.get(key(label, lag));
      if (!ps) continue;
      const reachedSteps = ps.map((p) => p.stepsToThreshold).filter((s): s is number => s !== null);
      groups.push({
        label,
        lag,
        seeds: ps.map((p) => p.seed).sort((a, b) => a - b),
        finalReturn: ci(ps.map((p) => p.finalReturn)),
        auc: ci(ps.map((p) => p.auc)),
        ess: ci(ps.map((p) => p.ess)),
        reached: reachedSteps.length,
        stepsToThresholdMean: reachedSteps.length > 0 ? reachedSteps.reduce((s, x) => s + x, 0) / reachedSteps.length : null,
      });
      bands.push(...seedBand(label, lag, ps.map((p) => p.curve)));
    }
  }

  const ranks = lags.map((lag) => ({
    lag,
    rows: rankWithTies(
      labels.flatMap((label) => {
        const vals = (cells.get(key(label, lag)) ?? []).map((p) => p.finalReturn).filter((x): x is number => x !== null);
        return vals.length > 0 ? [{ key: label, values: vals }] : [];
      }),
    ).map((r) => ({ label: r.key, rank: r.rank, n: r.stat.n, mean: r.stat.mean, halfWidth: r.stat.halfWidth, p: r.p, tied: r.tied, note: r.note })),
  }));

  const figures: CompareFigures = {
    threshold,
    test: TIE_TEST_NAME,
    runs: points.map(({ curve: _curve, ...rest }) => rest),
    groups,
    lags,
    labels,
    ranks,
  };
  return { figures, tables: tables(figures), charts: charts(figures, bands), warnings: runs.flatMap((r) => r.warnings) };
}

function tables(f: CompareFigures): Table[] {
  const cell = (s: MeanCI | null) => (s ? meanPm(s.mean, s.halfWidth, s.n) : '-');
  const groupTable: Table = {
    title: 'Groups (method, lag): mean ± 95% CI over seeds (Student t, df = n-1)',
    headers: ['method', 'lag', 'seeds', 'final return', 'AUC', 'ESS', `reached ${f.threshold}`, 'steps to threshold (mean of reached)'],
    rows: f.groups.map((g) => [
      g.label,
      g.lag,
      String(g.seeds.length),
      cell(g.finalReturn),
      cell(g.auc),
      cell(g.ess),
      `${g.reached}/${g.seeds.length}`,
      num(g.stepsToThresholdMean),
    ]),
  };
  const rankTable: Table = {
    title: 'Rank per lag by final return, with ties to the best',
    headers: ['lag', 'rank', 'method', 'n', 'final return', 'p vs best', 'tied with best'],
    rows: f.ranks.flatMap((r) =>
      r.rows.map((row) => [
        r.lag,
        String(row.rank),
        row.label,
        String(row.n),
        meanPm(row.mean, row.halfWidth, row.n),
        num(row.p),
        row.tied === null ? 'n/a (n < 2)' : row.note === 'best' ? 'best' : row.tied ? 'yes' : 'no',
      ]),
    ),
    note: `Test: ${f.test}.`,
  };
  const byMethod = (title: string, pick: (g: GroupFigures) => MeanCI | null): Table => ({
    title,
    headers: ['method', ...f.lags],
    rows: f.labels.map((label) => [
      label,
      ...f.lags.map((lag) => {
        const g = f.groups.find((x) => x.label === label && x.lag === lag);
        const s = g ? pick(g) : null;
        return s ? num(s.mean) : '-';
      }),
    ]),
  });
  return [
    groupTable,
    rankTable,
    byMethod('Final return by method and lag (mean over seeds)', (g) => g.finalReturn),
    byMethod('ESS by method and lag (mean over seeds)', (g) => g.ess),
  ];
}

function charts(f: CompareFigures, bands: BandPoint[]): Chart[] {
  const cellsOf = (pick: (g: GroupFigures) => MeanCI | null): LagCell[] =>
    f.groups.flatMap((g) => {
      const s = pick(g);
      return s ? [{ label: g.label, lag: g.lag, mean: s.mean, lo: s.lo, hi: s.hi }] : [];
    });
  return [
    compareCurvesChart(bands, f.lags),
    metricVsLagChart('return-vs-lag', 'Final return vs lag (mean, 95% CI)', 'final return', cellsOf((g) => g.finalReturn), f.lags),
    metricVsLagChart('ess-vs-lag', 'ESS vs lag (mean, 95% CI)', 'ESS', cellsOf((g) => g.ess), f.lags),
  ];
}

const GRID = 40;

/** Seed-mean curve with CI on a common step grid (the step range every seed covers). */
export function seedBand(label: string, lag: string, curves: readonly [number, number][][]): BandPoint[] {
  const cs = curves.filter((c) => c.length > 0);
  if (cs.length === 0) return [];
  const from = Math.max(...cs.map((c) => c[0]![0]));
  const to = Math.min(...cs.map((c) => c[c.length - 1]![0]));
  const n = to > from ? GRID : 1;
  const out: BandPoint[] = [];
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? to : from + ((to - from) * i) / (n - 1);
    const s = meanCI(cs.map((c) => interpolate(c, x)));
    out.push({ label, lag, envSteps: x, mean: s.mean, lo: s.lo, hi: s.hi });
  }
  return out;
}

/** Linear interpolation of a curve sorted by x, clamped at the ends. */
export function interpolate(c: readonly [number, number][], x: number): number {
  if (x <= c[0]![0]) return c[0]![1];
  for (let i = 1; i < c.length; i++) {
    const [x1, y1] = c[i]!;
    if (x <= x1) {
      const [x0, y0] = c[i - 1]!;
      return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return c[c.length - 1]![1];
}

function ci(xs: readonly (number | null)[]): MeanCI | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length > 0 ? meanCI(v) : null;
}

function key(label: string, lag: string): string {
  return `${label}\u0000${lag}`;
}
