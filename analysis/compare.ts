/**
 * Comparing runs. Runs are grouped by method label, lag, and every other config flag that
 * varies across the runs compared (so a sweep over a new axis is grouped without code here);
 * seeds are the replicates. Per group: the interquartile mean (IQM) and mean of the final
 * evaluation return with stratified bootstrap 95% CIs, the Student-t CI, the collapse rate with
 * a Wilson interval; per lag: a ranking by IQM with each method's probability of improvement
 * over the best (bootstrap CI) and Welch's test; across tasks: IQM of returns normalised
 * between the random policy and the task's maximum, and performance profiles. Pure: takes
 * RunData, returns figures, tables, charts and the report's reading order.
 */
import type { Analysis } from './analyzeRun.js';
import {
  compareCurvesChart,
  heatmapChart,
  metricVsFlagChart,
  metricVsLagChart,
  profileChart,
  type BandPoint,
  type FlagCell,
  type HeatCell,
  type LagCell,
  type ProfilePoint,
} from './charts.js';
import { dec, interval, meanPm, num, sig, type Table } from './format.js';
import type { Block } from './layout.js';
import { runOutcome } from './outcome.js';
import type { RunData } from './read.js';
import {
  DEFAULT_BOOTSTRAP,
  iqmCI,
  linspace,
  meanBootCI,
  normalise,
  performanceProfile,
  probabilityOfImprovement,
  TASK_MAX_RETURN,
  wilson,
  type Interval,
} from './robust.js';
import { ALPHA, meanCI, welchTest, TIE_TEST_NAME, type MeanCI } from './stats.js';
import { lagTable, learningCurve } from './tables.js';
import { conditionFields, flagValue, lagSortKey, variedFlags } from './conditions.js';
import { sequenceBlocks, sequenceFigures, type SequenceFigures } from './sequence.js';
import { asThreshold, thresholdText, type Threshold } from './thresholds.js';

export { conditionFields, lagSortKey, variedFlags } from './conditions.js';

export const ROBUST_METHOD =
  'IQM = mean of the middle 50% of seeds (scipy trim_mean 0.25; with n < 4 it is the mean); [lo, hi] = 95% stratified bootstrap percentile CI (seeds resampled within each task)';
/**
 * The fewest seeds per cell (on both sides) for a ranking verdict ("behind", "cannot be told
 * apart") from P(X > best) and its stratified bootstrap CI. Below it the report says "too few
 * seeds" instead. Why 4: with n seeds a side, the resamples can only reorder the n + n observed
 * values, so a small-n interval collapses onto the observed ordering. At n = 2, 2 of the 6 equally
 * likely orderings of two identical methods separate completely and give the CI [0, 0] or [1, 1],
 * and the CI lies entirely below 0.5 for 1 in 6 (17%) of them; at n = 3 for 10%; at n = 4, 5, 6 for
 * 4.3%, 5.6%, 3.7% (every ordering of 2n exchangeable seeds enumerated, 500 resamples each).
 * So from 4 seeds a "behind" verdict between equal methods happens about as often as a 95%
 * interval promises; with 2 or 3 it is mostly the bootstrap's discreteness.
 */
export const MIN_SEEDS_TO_RANK = 4;

const TOO_FEW_NOTE = `"too few seeds": fewer than ${MIN_SEEDS_TO_RANK} seeds in the row or in the best row, where the bootstrap CI of P(X > best) is too coarse to rank (MIN_SEEDS_TO_RANK in analysis/compare.ts says why); no verdict is drawn.`;

export const POI_METHOD =
  'P(X > best) = probability that a random seed of X scores above a random seed of the best method at that lag (ties 1/2; Agarwal et al. 2021), with a 95% bootstrap CI';

/** Per-run figures used for comparison. */
export interface RunPoint {
  dir: string;
  /** The method label (config label). */
  label: string;
  lag: string;
  env: string;
  seed: number;
  /** Values of the varied config flags other than label / lag / seed, as strings. */
  flags: Record<string, string>;
  /** The heatmap row: label plus the varied flags. */
  row: string;
  /** summary.finalEval.stochastic when present, else the last point of the return curve. */
  finalReturn: number | null;
  /** Where finalReturn comes from. */
  finalSource: 'final eval' | 'last eval' | 'behaviour' | 'none';
  /** finalReturn normalised: 0 = random policy (summary.randomReturn), 1 = the task's maximum; null when unknown. */
  normalised: number | null;
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
  randomReturn: number | null;
  curve: [number, number][];
}

export interface GroupFigures {
  /** Method label; `method` repeats it for --json readers. */
  label: string;
  method: string;
  row: string;
  env: string;
  flags: Record<string, string>;
  lag: string;
  seeds: number[];
  /** Final evaluation return: mean with a Student-t CI (kept for Welch's test). */
  finalReturn: MeanCI | null;
  /** Final evaluation return: IQM and mean with stratified bootstrap CIs. */
  iqm: Interval | null;
  mean: Interval | null;
  auc: MeanCI | null;
  ess: MeanCI | null;
  /** Seeds whose last update is flagged collapsed, and seeds flagged on any update. */
  collapsed: number;
  collapsedEver: number;
  /** collapsed / seeds with a Wilson 95% interval. */
  collapseRate: Interval;
  finalEntropy: MeanCI | null;
  /** Seeds whose finalReturn is not a summary finalEval (run unfinished or older log). */
  noFinalEval: number;
  /** Seeds that reached the threshold (null when the group's environment has no threshold), and the mean steps among them. */
  reached: number | null;
  stepsToThresholdMean: number | null;
}

export interface RankRowFigures {
  label: string;
  rank: number;
  n: number;
  iqm: Interval;
  mean: number;
  halfWidth: number | null;
  /** P(this > best) with its bootstrap CI; null for the best itself. */
  poi: Interval | null;
  /** Welch's test against the best: p, and tied = p >= alpha; null when n < 2 on either side. */
  p: number | null;
  /** Fewer than MIN_SEEDS_TO_RANK seeds here or in the best row: no ranking verdict is drawn. */
  tooFewSeeds: boolean;
  tied: boolean | null;
  note: string;
  /** Seeds collapsed at the end, of `seeds`, with the Wilson interval of the rate. */
  collapsed: number;
  seeds: number;
  collapseRate: Interval;
}

export interface CompareOptions {
  /** Bootstrap resamples (default 2000). */
  bootstrap?: number;
  /** Bootstrap seed (default 0), so reports are reproducible. */
  seed?: number;
}

export interface CompareFigures {
  /** The threshold every run was measured against; null when none, or when it differs by environment (then see thresholdByEnv). */
  threshold: number | null;
  /** Per environment, present only when the environments' thresholds differ. */
  thresholdByEnv?: Record<string, number | null>;
  test: string;
  robust: string;
  bootstrap: { reps: number; seed: number };
  /** Config flags (besides label, lag and seed) that vary across the runs, grouped on. */
  varied: string[];
  runs: Omit<RunPoint, 'curve'>[];
  groups: GroupFigures[];
  lags: string[];
  labels: string[];
  /** Heatmap rows: label plus varied flags. */
  rows: string[];
  ranks: { lag: string; env: string; rows: RankRowFigures[]; summary: string }[];
  /** Across tasks, per (row without env, lag): IQM / mean of normalised returns, stratified by env. */
  aggregate: { row: string; lag: string; tasks: string[]; n: number; iqm: Interval; mean: Interval }[];
  /** Performance profiles on normalised returns (null when some run cannot be normalised). */
  profiles: { taus: number[]; curves: { row: string; lag: string; fraction: number[] }[] } | null;
  /** Sequence tasks (analysis/sequence.ts): exact match by method, teacher share and lag; absent when no run is on a sequence task. */
  sequence?: SequenceFigures;
}

/**
 * Compare runs (any number of labels, lags, seeds and varied flags). `threshold` as in analyze
 * (a number, null or a Threshold for every run), or a function giving each environment's.
 */
export function compareRuns(
  runs: readonly RunData[],
  threshold: number | null | Threshold | ((env: string) => Threshold),
  options: CompareOptions = {},
): Analysis<CompareFigures> {
  const reps = options.bootstrap ?? DEFAULT_BOOTSTRAP;
  const bseed = options.seed ?? 0;
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`compareRuns: bootstrap must be a positive integer, got ${reps}`);
  const boot = { reps, seed: bseed };
  const thrByEnv = new Map<string, Threshold>();
  for (const env of [...new Set(runs.map((r) => r.config.env))].sort()) {
    thrByEnv.set(env, typeof threshold === 'function' ? threshold(env) : asThreshold(threshold));
  }
  const thrValues = [...new Set([...thrByEnv.values()].map((t) => t.value))];
  const thrOf = (env: string) => thrByEnv.get(env)!;
  const configs = runs.map((r) => conditionFields(r.config as unknown as Record<string, unknown>));
  const varied = variedFlags(configs);
  const randomByEnv = new Map<string, number[]>();
  for (const r of runs) {
    const rr = r.summary?.randomReturn;
    if (typeof rr === 'number' && Number.isFinite(rr)) randomByEnv.set(r.config.env, [...(randomByEnv.get(r.config.env) ?? []), rr]);
  }
  const randomOf = (env: string) => {
    const xs = randomByEnv.get(env);
    return xs ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
  };

  const points: RunPoint[] = runs.map((r, i) => {
    const o = runOutcome(r.updates, r.summary, r.config);
    const c = learningCurve(r.updates, r.summary, thrOf(r.config.env).value, o.stoppedAtTarget ? r.config.steps : undefined);
    const all = lagTable(r.updates).find((row) => row.bucket === 'all');
    const flags: Record<string, string> = {};
    for (const f of varied) flags[f] = flagValue(configs[i]![f]);
    const random = randomOf(r.config.env);
    const max = TASK_MAX_RETURN[r.config.env];
    return {
      dir: r.dir,
      label: r.config.label,
      lag: r.config.lag,
      env: r.config.env,
      seed: r.config.seed,
      flags,
      row: [r.config.label, ...varied.map((f) => `${f}=${flags[f]}`)].join(' '),
      finalReturn: c.finalReturn,
      finalSource: o.finalEval ? 'final eval' : c.finalReturn === null ? 'none' : c.source === 'eval' ? 'last eval' : 'behaviour',
      normalised:
        c.finalReturn !== null && random !== null && max !== undefined && max !== random ? normalise(c.finalReturn, random, max) : null,
      collapsed: o.collapsedAtEnd,
      collapsedEver: o.collapsedAt !== null,
      finalEntropy: o.finalEntropy,
      stoppedAtTarget: o.stoppedAtTarget,
      auc: c.auc,
      stepsToThreshold: c.stepsToThreshold,
      ess: all?.ess ?? null,
      randomReturn: o.randomReturn,
      curve: c.series,
    };
  });
  const lags = [...new Set(points.map((p) => p.lag))].sort((a, b) => lagSortKey(a) - lagSortKey(b) || a.localeCompare(b));
  const labels = [...new Set(points.map((p) => p.label))].sort();
  const rows = [...new Set(points.map((p) => p.row))].sort();
  const envs = [...new Set(points.map((p) => p.env))].sort();
  const cells = new Map<string, RunPoint[]>();
  for (const p of points) cells.set(key(p.row, p.lag), [...(cells.get(key(p.row, p.lag)) ?? []), p]);

  const groups: GroupFigures[] = [];
  const bands: BandPoint[] = [];
  for (const lag of lags) {
    for (const row of rows) {
      const ps = cells.get(key(row, lag));
      if (!ps) continue;
      const first = ps[0]!;
      const reachedSteps = ps.map((p) => p.stepsToThreshold).filter((s): s is number => s !== null);
      const finals = finite(ps.map((p) => p.finalReturn));
      groups.push({
        label: first.label,
        method: first.label,
        row,
        env: first.env,
        flags: first.flags,
        lag,
        seeds: ps.map((p) => p.seed).sort((a, b) => a - b),
        finalReturn: ci(finals),
        iqm: finals.length > 0 ? iqmCI([finals], boot) : null,
        mean: finals.length > 0 ? meanBootCI([finals], boot) : null,
        auc: ci(ps.map((p) => p.auc)),
        ess: ci(ps.map((p) => p.ess)),
        collapsed: ps.filter((p) => p.collapsed).length,
        collapsedEver: ps.filter((p) => p.collapsedEver).length,
        collapseRate: wilson(ps.filter((p) => p.collapsed).length, ps.length),
        finalEntropy: ci(ps.map((p) => p.finalEntropy)),
        noFinalEval: ps.filter((p) => p.finalSource !== 'final eval').length,
        reached: thrOf(first.env).value === null ? null : reachedSteps.length,
        stepsToThresholdMean: reachedSteps.length > 0 ? reachedSteps.reduce((s, x) => s + x, 0) / reachedSteps.length : null,
      });
      bands.push(
        ...seedBand(
          row,
          lag,
          ps.map((p) => p.curve),
        ),
      );
    }
  }

  const ranks = lags.flatMap((lag) => envs.map((env) => rankAtLag(lag, env, groups, cells, boot))).filter((r) => r.rows.length > 0);
  const { aggregate, profiles } = acrossTasks(points, lags, boot);
  const seq = sequenceFigures(runs);

  const figures: CompareFigures = {
    threshold: thrValues.length === 1 ? (thrValues[0] ?? null) : null,
    ...(thrValues.length > 1 ? { thresholdByEnv: Object.fromEntries([...thrByEnv].map(([e, t]) => [e, t.value])) } : {}),
    test: TIE_TEST_NAME,
    robust: ROBUST_METHOD,
    bootstrap: boot,
    varied,
    runs: points.map(({ curve: _curve, ...rest }) => rest),
    groups,
    lags,
    labels,
    rows,
    ranks,
    aggregate,
    profiles,
    ...(seq ? { sequence: seq } : {}),
  };
  const range = observedRange(points.flatMap((p) => [...p.curve.map(([, y]) => y), ...(p.finalReturn === null ? [] : [p.finalReturn])]));
  const t = tables(figures, envs.length > 1, thresholdNote(thrByEnv));
  const ch = charts(figures, bands, range);
  const layout: Block[] = [
    { kind: 'table', table: t.heat, textOnly: true },
    { kind: 'chart', chart: ch.heatReturn },
    { kind: 'chart', chart: ch.heatCollapse },
    { kind: 'text', title: 'In one sentence per lag', lines: ranks.map((r) => r.summary) },
    ...(seq ? sequenceBlocks(seq) : []),
    { kind: 'table', table: t.rank },
    ...(t.aggregate ? [{ kind: 'table' as const, table: t.aggregate }] : []),
    ...(ch.profile ? [{ kind: 'chart' as const, chart: ch.profile }] : []),
    { kind: 'chart', chart: ch.curves },
    ...ch.byFlag.map((c) => ({ kind: 'chart' as const, chart: c })),
    { kind: 'table', table: t.groups },
    { kind: 'chart', chart: ch.returnVsLag },
    { kind: 'chart', chart: ch.essVsLag },
    { kind: 'table', table: t.essByLag },
  ];
  const allCharts = layout.flatMap((b) => (b.kind === 'chart' ? [b.chart] : []));
  const allTables = layout.flatMap((b) => (b.kind === 'table' ? [b.table] : []));
  return { figures, tables: allTables, charts: allCharts, warnings: runs.flatMap((r) => r.warnings), layout };
}

function rankAtLag(
  lag: string,
  env: string,
  groups: readonly GroupFigures[],
  cells: Map<string, RunPoint[]>,
  boot: { reps: number; seed: number },
): CompareFigures['ranks'][number] {
  const gs = groups
    .filter((g) => g.lag === lag && g.env === env && g.iqm !== null)
    .sort((a, b) => b.iqm!.value - a.iqm!.value || b.finalReturn!.mean - a.finalReturn!.mean || a.row.localeCompare(b.row));
  const vals = (g: GroupFigures) => finite((cells.get(key(g.row, lag)) ?? []).map((p) => p.finalReturn));
  const best = gs[0];
  const rows: RankRowFigures[] = gs.map((g, i) => {
    const v = vals(g);
    const base = {
      label: g.row,
      rank: i + 1,
      n: v.length,
      iqm: g.iqm!,
      mean: g.finalReturn!.mean,
      halfWidth: g.finalReturn!.halfWidth,
      collapsed: g.collapsed,
      seeds: g.seeds.length,
      collapseRate: g.collapseRate,
    };
    const tooFewSeeds = v.length < MIN_SEEDS_TO_RANK || vals(best!).length < MIN_SEEDS_TO_RANK;
    if (i === 0) return { ...base, poi: null, p: null, tied: true, tooFewSeeds, note: 'best' };
    const poi = probabilityOfImprovement([v], [vals(best!)], boot);
    if (v.length < 2 || vals(best!).length < 2) return { ...base, poi, p: null, tied: null, tooFewSeeds, note: 'n < 2: no test' };
    const { p } = welchTest(v, vals(best!));
    return { ...base, poi, p, tied: p >= ALPHA, tooFewSeeds, note: p >= ALPHA ? 'tied' : 'worse' };
  });
  return { lag, env, rows, summary: sentence(lag, env, rows, groups) };
}

/** One sentence per lag from the numbers: who leads, who is clearly behind, who collapsed. */
export function sentence(lag: string, env: string, rows: readonly RankRowFigures[], groups: readonly GroupFigures[]): string {
  const where = `At lag ${lag}${groups.some((g) => g.env !== env) ? ` on ${env}` : ''}`;
  const best = rows[0];
  if (!best) return `${where}, no run has a final return.`;
  const collapsed = groups
    .filter((g) => g.lag === lag && g.env === env && g.collapsed > 0)
    .map((g) => `${g.row} in ${g.collapsed}/${g.seeds.length} seeds`);
  const tail = collapsed.length > 0 ? ` Collapsed: ${collapsed.join('; ')}.` : ' No seed collapsed.';
  if (rows.length === 1) return `${where}, only ${best.label} was run: IQM ${interval(best.iqm)}.${tail}`;
  const few = (r: RankRowFigures) => `${r.label} (${r.n} seed${r.n === 1 ? '' : 's'})`;
  if (best.n < MIN_SEEDS_TO_RANK) {
    const short = rows.filter((r) => r.n < MIN_SEEDS_TO_RANK).map(few);
    return (
      `${where}, no ranking claim: too few seeds (fewer than ${MIN_SEEDS_TO_RANK} in ${list(short)}). ` +
      `Highest IQM: ${best.label}, ${interval(best.iqm)} over ${best.n} seed(s).${tail}`
    );
  }
  const ranked = rows.filter((r) => !r.tooFewSeeds);
  const behind = ranked.filter((r) => r.poi !== null && r.poi.hi < 0.5).map((r) => r.label);
  const close = ranked.filter((r) => r.poi !== null && r.poi.hi >= 0.5).map((r) => `${r.label} (${interval(r.poi, 2)})`);
  const unranked = rows.filter((r) => r.poi !== null && r.tooFewSeeds).map(few);
  const parts = [`${where}, ${best.label} leads with IQM ${interval(best.iqm)} over ${best.n} seed(s)`];
  if (unranked.length > 0) parts.push(`too few seeds to rank (fewer than ${MIN_SEEDS_TO_RANK}): ${list(unranked)}`);
  if (behind.length > 0)
    parts.push(`${list(behind)} ${behind.length === 1 ? 'is' : 'are'} behind it (P(X > ${best.label}) CI entirely below 0.5)`);
  if (close.length > 0)
    parts.push(`${list(close)} cannot be told apart from it at these seeds (P(X > ${best.label}) [95% CI] reaches 0.5)`);
  return `${parts.join('; ')}.${tail}`;
}

function acrossTasks(
  points: readonly RunPoint[],
  lags: readonly string[],
  boot: { reps: number; seed: number },
): Pick<CompareFigures, 'aggregate' | 'profiles'> {
  const rowNoEnv = (p: RunPoint) =>
    [
      p.label,
      ...Object.entries(p.flags)
        .filter(([k]) => k !== 'env')
        .map(([k, v]) => `${k}=${v}`),
    ].join(' ');
  const byCell = new Map<string, RunPoint[]>();
  for (const p of points) byCell.set(key(rowNoEnv(p), p.lag), [...(byCell.get(key(rowNoEnv(p), p.lag)) ?? []), p]);
  const normalisable = points.length > 0 && points.every((p) => p.normalised !== null || p.finalReturn === null);
  if (!normalisable) return { aggregate: [], profiles: null };
  const taus = linspace(0, 1, 41);
  const aggregate: CompareFigures['aggregate'] = [];
  const curves: { row: string; lag: string; fraction: number[] }[] = [];
  const rowsNoEnv = [...new Set(points.map(rowNoEnv))].sort();
  for (const lag of lags) {
    for (const row of rowsNoEnv) {
      const ps = byCell.get(key(row, lag));
      if (!ps) continue;
      const tasks = [...new Set(ps.map((p) => p.env))].sort();
      const strata = tasks.map((t) => finite(ps.filter((p) => p.env === t).map((p) => p.normalised))).filter((s) => s.length > 0);
      if (strata.length === 0) continue;
      aggregate.push({
        row,
        lag,
        tasks,
        n: strata.reduce((s, x) => s + x.length, 0),
        iqm: iqmCI(strata, boot),
        mean: meanBootCI(strata, boot),
      });
      curves.push({ row, lag, fraction: performanceProfile(strata, taus) });
    }
  }
  return { aggregate, profiles: { taus, curves } };
}

function tables(
  f: CompareFigures,
  multiTask: boolean,
  thrNote: string,
): { heat: Table; rank: Table; groups: Table; essByLag: Table; aggregate: Table | null } {
  const heat: Table = {
    title: 'Final evaluation return (IQM over seeds) and seeds collapsed, by method and lag',
    headers: ['method', ...f.lags],
    rows: f.rows.map((row) => [
      row,
      ...f.lags.map((lag) => {
        const g = f.groups.find((x) => x.row === row && x.lag === lag);
        return g
          ? `${sig(g.iqm?.value)} (${g.collapsed}/${g.seeds.length} collapsed)${g.seeds.length < MIN_SEEDS_TO_RANK ? ' too few seeds' : ''}`
          : '-';
      }),
    ]),
  };
  const cell = (s: MeanCI | null) => (s ? meanPm(s.mean, s.halfWidth, s.n) : '-');
  const rate = (g: { collapseRate: Interval }, k: number, n: number) =>
    `${k}/${n} [${sig(g.collapseRate.lo, 2)}, ${sig(g.collapseRate.hi, 2)}]`;
  const rank: Table = {
    title: 'Ranking per lag by the IQM of the final evaluation return (100-episode evaluation of the final policy)',
    headers: [
      'lag',
      ...(multiTask ? ['env'] : []),
      'rank',
      'method',
      'seeds',
      'IQM [95% CI]',
      'P(X > best) [95% CI]',
      'collapsed [Wilson 95%]',
      'mean ± t CI',
      'Welch p vs best',
      'tied with best',
    ],
    rows: f.ranks.flatMap((r) =>
      r.rows.map((row) => [
        r.lag,
        ...(multiTask ? [r.env] : []),
        row.tooFewSeeds ? `${row.rank} (too few seeds)` : String(row.rank),
        row.label,
        String(row.n),
        interval(row.iqm),
        row.poi ? `${interval(row.poi, 2)}${row.tooFewSeeds ? ' (too few seeds: no verdict)' : ''}` : 'best',
        rate(row, row.collapsed, row.seeds),
        meanPm(row.mean, row.halfWidth, row.n),
        dec(row.p),
        row.tied === null ? 'n/a (n < 2)' : row.note === 'best' ? 'best' : row.tied ? 'yes' : 'no',
      ]),
    ),
    note: `${f.robust}; ${f.bootstrap.reps} resamples, seed ${f.bootstrap.seed}. ${POI_METHOD}. Welch: ${f.test}. ${TOO_FEW_NOTE}`,
  };
  const groups: Table = {
    title: 'Every group (method, lag): final return, AUC, ESS, collapse and entropy over seeds',
    headers: [
      'method',
      'lag',
      'seeds',
      'final return IQM [95% CI]',
      'final return mean [95% CI]',
      'mean ± t CI',
      'AUC',
      'ESS',
      'collapsed',
      'final entropy',
      f.threshold === null ? 'reached threshold' : `reached ${f.threshold}`,
      'steps to threshold (mean of reached)',
    ],
    rows: f.groups.map((g) => [
      g.row,
      g.lag,
      String(g.seeds.length),
      interval(g.iqm),
      interval(g.mean),
      cell(g.finalReturn),
      cell(g.auc),
      cell(g.ess),
      `${g.collapsed}/${g.seeds.length}${g.collapsedEver > g.collapsed ? ` (ever ${g.collapsedEver})` : ''}`,
      cell(g.finalEntropy),
      g.reached === null ? '-' : `${g.reached}/${g.seeds.length}${f.thresholdByEnv ? ` (>= ${f.thresholdByEnv[g.env]})` : ''}`,
      num(g.stepsToThresholdMean),
    ]),
    note: groupNote(f, thrNote),
  };
  const essByLag: Table = {
    title: 'ESS by method and lag (mean over seeds)',
    headers: ['method', ...f.lags],
    rows: f.rows.map((row) => [
      row,
      ...f.lags.map((lag) => {
        const g = f.groups.find((x) => x.row === row && x.lag === lag);
        return g?.ess ? dec(g.ess.mean) : '-';
      }),
    ]),
  };
  const aggregate: Table | null = multiTask
    ? {
        title: 'Across tasks: normalised final return (0 = random policy, 1 = task maximum)',
        headers: ['method', 'lag', 'tasks', 'runs', 'IQM [95% CI]', 'mean [95% CI]'],
        rows: f.aggregate.map((a) => [a.row, a.lag, a.tasks.join(', '), String(a.n), interval(a.iqm), interval(a.mean)]),
        note: 'Bootstrap resamples seeds within each task (stratified), then pools the tasks.',
      }
    : null;
  return { heat, rank, groups, essByLag, aggregate };
}

/**
 * With few seeds a Student-t CI is wider than any return can be (n = 2: t = 12.7); the charts
 * show bootstrap intervals, which stay inside the observed values, and clip t CIs to `range`.
 */
function charts(f: CompareFigures, bands: BandPoint[], range: [number, number] | null) {
  const clip = (x: number | null, r: [number, number] | null) => (x === null || r === null ? x : Math.min(r[1], Math.max(r[0], x)));
  const clipped = bands.map((b) => ({ ...b, lo: clip(b.lo, range), hi: clip(b.hi, range) }));
  const heat = (pick: (g: GroupFigures) => { value: number; text: string } | null): HeatCell[] =>
    f.groups.flatMap((g) => {
      const v = pick(g);
      return v ? [{ row: g.row, lag: g.lag, ...v }] : [];
    });
  const iqmCells: LagCell[] = f.groups.flatMap((g) =>
    g.iqm ? [{ label: g.row, lag: g.lag, mean: g.iqm.value, lo: g.iqm.lo, hi: g.iqm.hi }] : [],
  );
  const essCells: LagCell[] = f.groups.flatMap((g) =>
    g.ess ? [{ label: g.row, lag: g.lag, mean: g.ess.mean, lo: clip(g.ess.lo, [0, 1]), hi: clip(g.ess.hi, [0, 1]) }] : [],
  );
  const byFlag = f.varied.flatMap((flag) => {
    const cellsOf = (pick: (g: GroupFigures) => Interval | null): FlagCell[] =>
      f.groups.flatMap((g) => {
        const v = pick(g);
        return v ? [{ label: g.label, lag: g.lag, value: g.flags[flag] ?? '(unset)', y: v.value, lo: v.lo, hi: v.hi }] : [];
      });
    return [
      metricVsFlagChart(
        `return-vs-${safe(flag)}`,
        `Final return (IQM, 95% bootstrap CI) against ${flag}`,
        flag,
        'final return (IQM)',
        cellsOf((g) => g.iqm),
        f.lags,
      ),
      metricVsFlagChart(
        `collapse-vs-${safe(flag)}`,
        `Collapse rate (Wilson 95%) against ${flag}`,
        flag,
        'collapse rate',
        cellsOf((g) => g.collapseRate),
        f.lags,
      ),
    ];
  });
  const profilePoints: ProfilePoint[] = f.profiles
    ? f.profiles.curves.flatMap((c) => c.fraction.map((y, i) => ({ label: c.row, lag: c.lag, tau: f.profiles!.taus[i]!, fraction: y })))
    : [];
  return {
    heatReturn: heatmapChart(
      'heat-return',
      'Final evaluation return (IQM over seeds) by method and lag',
      heat((g) => (g.iqm ? { value: g.iqm.value, text: sig(g.iqm.value) } : null)),
      f.rows,
      f.lags,
      'IQM return',
    ),
    heatCollapse: heatmapChart(
      'heat-collapse',
      'Collapse rate (seeds collapsed at the end) by method and lag',
      heat((g) => ({ value: g.collapseRate.value, text: `${g.collapsed}/${g.seeds.length}` })),
      f.rows,
      f.lags,
      'collapse rate',
      [0, 1],
      'reds',
    ),
    profile: f.profiles ? profileChart(profilePoints, f.lags) : null,
    curves: compareCurvesChart(clipped, f.lags, 'Return vs env steps (mean over seeds, 95% t band clipped to the observed returns)'),
    byFlag,
    returnVsLag: metricVsLagChart(
      'return-vs-lag',
      'Final evaluation return vs lag (IQM, 95% bootstrap CI)',
      'final return (IQM)',
      iqmCells,
      f.lags,
    ),
    essVsLag: metricVsLagChart('ess-vs-lag', 'ESS vs lag (mean, 95% t CI clipped to [0, 1])', 'ESS', essCells, f.lags),
  };
}

function observedRange(xs: readonly number[]): [number, number] | null {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length > 0 ? [Math.min(...v), Math.max(...v)] : null;
}

/**
 * What "steps to threshold" measured against: `first step from which the return stays >= 475 to
 * the end` (with the threshold's source unless it is CartPole-v1's 475), per environment when
 * they differ, or why there is none.
 */
function thresholdNote(byEnv: ReadonlyMap<string, Threshold>): string {
  const ts = [...byEnv];
  const texts = [...new Set(ts.map(([, t]) => thresholdText(t)))];
  if (texts.length <= 1) {
    const t = ts[0]?.[1] ?? asThreshold(null);
    return t.value === null
      ? `steps to threshold: ${thresholdText(t)}`
      : `steps to threshold: first step from which the return stays ${thresholdText(t)} to the end`;
  }
  const per = ts.map(([env, t]) => `${env} ${t.value === null ? 'none' : `>= ${t.value}`}${t.shown ? ` (${t.source})` : ''}`);
  return `steps to threshold: first step from which the return stays at or above its environment's threshold to the end (${per.join(', ')}; --threshold N sets one for all)`;
}

function groupNote(f: CompareFigures, thrNote: string): string {
  const parts = [
    'final return: summary finalEval stochastic (the final policy, 100 episodes by default)',
    'collapsed: seeds whose last update is flagged `collapsed` (entropy below --collapse-entropy and the last evaluation below a random policy), "ever" counts seeds flagged on any update',
    thrNote,
  ];
  if (f.varied.length > 0) parts.push(`grouped also on the config flags that vary across these runs: ${f.varied.join(', ')}`);
  const held = f.runs.filter((r) => r.stoppedAtTarget).length;
  if (held > 0) parts.push(`${held} run(s) stopped early at the target return: AUC and curves hold their final return to the step budget`);
  const missing = f.runs.filter((r) => r.finalSource !== 'final eval');
  if (missing.length > 0)
    parts.push(`${missing.length} run(s) have no summary finalEval (unfinished or older logs): their last curve point is used`);
  return parts.join('; ') + '.';
}

function finite(xs: readonly (number | null)[]): number[] {
  return xs.filter((x): x is number => x !== null && Number.isFinite(x));
}

function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

function safe(flag: string): string {
  return flag.replace(/[^A-Za-z0-9_-]/g, '_');
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
