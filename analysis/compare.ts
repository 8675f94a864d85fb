/**
 * Comparing runs: group by (method label, lag), mean and 95% CI over seeds, the fraction of
 * seeds collapsed and the final entropy, seed-averaged return curves, a rank table per lag on
 * the final evaluation return with Welch's test against the best, and method x lag tables of
 * final return and ESS. Pure: takes RunData, returns figures, tables and charts.
 */
import type { Analysis } from './analyzeRun.js';
import { compareCurvesChart, metricVsLagChart, type BandPoint, type Chart, type LagCell } from './charts.js';
import { dec, meanPm, num, type Table } from './format.js';
import { runOutcome } from './outcome.js';
import type { RunData } from './read.js';
import { meanCI, rankWithTies, TIE_TEST_NAME, type MeanCI } from './stats.js';
import { lagTable, learningCurve } from './tables.js';

/** Per-run figures used for comparison. */
export interface RunPoint {
  dir: string;
  label: string;
  lag: string;
  seed: number;
  /** summary.finalEval.stochastic when present, else the last point of the return curve. */
  finalReturn: number | null;
  /** Where finalReturn comes from. */
  finalSource: 'final eval' | 'last eval' | 'behaviour' | 'none';
  /** The last update is flagged `collapsed`. */
  collapsed: boolean;
  /** Some update was flagged `collapsed` (a run can recover). */
  collapsedEver: boolean;
  finalEntropy: number | null;
  /** Stopped early at --target-return; its curve is held at the final return to the step budget. */
  stoppedAtTarget: boolean;
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
  /** Seeds whose last update is flagged collapsed, and seeds flagged on any update. */
  collapsed: number;
  collapsedEver: number;
  finalEntropy: MeanCI | null;
  /** Seeds whose finalReturn is not a summary finalEval (run unfinished or older log). */
  noFinalEval: number;
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
    const o = runOutcome(r.updates, r.summary, r.config);
    const c = learningCurve(r.updates, r.summary, threshold, o.stoppedAtTarget ? r.config.steps : undefined);
    const all = lagTable(r.updates).find((row) => row.bucket === 'all');
    return {
      dir: r.dir,
      label: r.config.label,
      lag: r.config.lag,
      seed: r.config.seed,
      finalReturn: c.finalReturn,
      finalSource: o.finalEval ? 'final eval' : c.finalReturn === null ? 'none' : c.source === 'eval' ? 'last eval' : 'behaviour',
      collapsed: o.collapsedAtEnd,
      collapsedEver: o.collapsedAt !== null,
      finalEntropy: o.finalEntropy,
      stoppedAtTarget: o.stoppedAtTarget,
      auc: c.auc,
      stepsToThreshold: c.stepsToThreshold,
      ess: all?.ess ?? null,
      curve: c.series,
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
        collapsed: ps.filter((p) => p.collapsed).length,
        collapsedEver: ps.filter((p) => p.collapsedEver).length,
        finalEntropy: ci(ps.map((p) => p.finalEntropy)),
        noFinalEval: ps.filter((p) => p.finalSource !== 'final eval').length,
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
  const range = observedRange(points.flatMap((p) => [...p.curve.map(([, y]) => y), ...(p.finalReturn === null ? [] : [p.finalReturn])]));
  return { figures, tables: tables(figures), charts: charts(figures, bands, range), warnings: runs.flatMap((r) => r.warnings) };
}

function tables(f: CompareFigures): Table[] {
  const cell = (s: MeanCI | null) => (s ? meanPm(s.mean, s.halfWidth, s.n) : '-');
  const groupTable: Table = {
    title: 'Groups (method, lag): mean ± 95% CI over seeds (Student t, df = n-1)',
    headers: ['method', 'lag', 'seeds', 'final eval return', 'AUC', 'ESS', 'collapsed', 'final entropy', `reached ${f.threshold}`, 'steps to threshold (mean of reached)'],
    rows: f.groups.map((g) => [
      g.label,
      g.lag,
      String(g.seeds.length),
      cell(g.finalReturn),
      cell(g.auc),
      cell(g.ess),
      `${g.collapsed}/${g.seeds.length}${g.collapsedEver > g.collapsed ? ` (ever ${g.collapsedEver})` : ''}`,
      cell(g.finalEntropy),
      `${g.reached}/${g.seeds.length}`,
      num(g.stepsToThresholdMean),
    ]),
    note: groupNote(f),
  };
  const rankTable: Table = {
    title: "Rank per lag by final evaluation return of the current policy (summary finalEval stochastic), Welch's test for ties with the best",
    headers: ['lag', 'rank', 'method', 'n', 'final eval return', 'p vs best', 'tied with best'],
    rows: f.ranks.flatMap((r) =>
      r.rows.map((row) => [
        r.lag,
        String(row.rank),
        row.label,
        String(row.n),
        meanPm(row.mean, row.halfWidth, row.n),
        dec(row.p),
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
        return s ? dec(s.mean) : '-';
      }),
    ]),
  });
  return [
    groupTable,
    rankTable,
    byMethod('Final eval return by method and lag (mean over seeds)', (g) => g.finalReturn),
    byMethod('ESS by method and lag (mean over seeds)', (g) => g.ess),
  ];
}

/**
 * With few seeds a Student-t CI is wider than any return can be (n = 2: t = 12.7), which would
 * flatten every curve; charts clip CI ends to `range` (returns: the range observed over all runs;
 * ESS: [0, 1]) and say so. The tables keep the unclipped CI.
 */
function charts(f: CompareFigures, bands: BandPoint[], range: [number, number] | null): Chart[] {
  const clip = (x: number | null, r: [number, number] | null) => (x === null || r === null ? x : Math.min(r[1], Math.max(r[0], x)));
  const cellsOf = (pick: (g: GroupFigures) => MeanCI | null, r: [number, number] | null): LagCell[] =>
    f.groups.flatMap((g) => {
      const s = pick(g);
      return s ? [{ label: g.label, lag: g.lag, mean: s.mean, lo: clip(s.lo, r), hi: clip(s.hi, r) }] : [];
    });
  const clipped = bands.map((b) => ({ ...b, lo: clip(b.lo, range), hi: clip(b.hi, range) }));
  return [
    compareCurvesChart(clipped, f.lags, 'Return vs env steps (mean over seeds, 95% CI band clipped to the observed return range)'),
    metricVsLagChart('return-vs-lag', 'Final eval return vs lag (mean, 95% CI clipped to the observed return range)', 'final eval return', cellsOf((g) => g.finalReturn, range), f.lags),
    metricVsLagChart('ess-vs-lag', 'ESS vs lag (mean, 95% CI clipped to [0, 1])', 'ESS', cellsOf((g) => g.ess, [0, 1]), f.lags),
  ];
}

function observedRange(xs: readonly number[]): [number, number] | null {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length > 0 ? [Math.min(...v), Math.max(...v)] : null;
}

function groupNote(f: CompareFigures): string {
  const parts = [
    'final eval return: summary finalEval stochastic (the current policy at the end, 100 episodes by default)',
    'collapsed: seeds whose last update is flagged `collapsed` (entropy below --collapse-entropy and the last evaluation below a random policy), "ever" counts seeds flagged on any update',
    `steps to threshold: first step from which the return stays >= ${f.threshold} to the end`,
  ];
  const held = f.runs.filter((r) => r.stoppedAtTarget).length;
  if (held > 0) parts.push(`${held} run(s) stopped early at the target return: AUC and curves hold their final return to the step budget`);
  const missing = f.runs.filter((r) => r.finalSource !== 'final eval');
  if (missing.length > 0) parts.push(`${missing.length} run(s) have no summary finalEval (unfinished or older logs): their last curve point is used`);
  return parts.join('; ') + '.';
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
