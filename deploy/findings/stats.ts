/**
 * The statistics of the findings report, pure functions of result lines: per cell (task,
 * method, setting, lag) the IQM of the score with its stratified bootstrap 95% CI, collapses
 * with a Wilson interval, seeds reaching the threshold; between two cells the probability of
 * improvement with its CI and a verdict that says "not resolved" when the CI holds 1/2.
 */
import { iqmCI, probabilityOfImprovement, wilson, type Interval } from '../../analysis/robust.js';
import { TASKS } from './grids.js';
import type { ResultLine } from './results.js';

/** No ranking claim is made for a cell with fewer seeds than this (issue 23: at least 5 seeds per cell). */
export const MIN_SEEDS = 5;
/** Bootstrap resamples and generator seed: fixed, so the report is a function of the results file. */
export const BOOT = { reps: 2000, seed: 23 } as const;

/** The score a run is compared on: the final sampled return, or the greedy exact-match rate on sequence tasks. */
export function scoreOf(r: ResultLine): number | null {
  const t = TASKS[r.task];
  const s = t?.score === 'greedySuccess' ? r.greedySuccess : r.final;
  return typeof s === 'number' && Number.isFinite(s) ? s : null;
}

/** Every run of one (task, method, setting, lag), seeds in order. */
export interface Cell {
  task: string;
  method: string;
  setting: string;
  lag: number;
  runs: ResultLine[];
  scores: number[];
  n: number;
  iqm: Interval | null;
  collapsed: number;
  collapse: Interval;
  reached: number;
  /** Median steps to threshold, a seed that never got there counting as infinite; null when that median is infinite. */
  medianSteps: number | null;
  wallS: number;
}

export function cellId(task: string, method: string, setting: string, lag: number): string {
  return `${task}|${method}|${setting}|${lag}`;
}

/** Group result lines into cells (map keyed by `cellId`), each with its statistics. */
export function cellsOf(results: readonly ResultLine[]): Map<string, Cell> {
  const groups = new Map<string, ResultLine[]>();
  for (const r of results) {
    const id = cellId(r.task, r.method, r.setting, r.lag);
    const g = groups.get(id) ?? [];
    g.push(r);
    groups.set(id, g);
  }
  const cells = new Map<string, Cell>();
  for (const [id, runs] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    runs.sort((a, b) => a.seed - b.seed);
    const scores = runs.map(scoreOf).filter((s): s is number => s !== null);
    const steps = runs.map((r) => r.stepsToThreshold ?? Infinity).sort((a, b) => a - b);
    const mid = steps.length % 2 === 1 ? steps[(steps.length - 1) / 2]! : (steps[steps.length / 2 - 1]! + steps[steps.length / 2]!) / 2;
    const collapsed = runs.filter((r) => r.collapsed).length;
    const r0 = runs[0]!;
    cells.set(id, {
      task: r0.task,
      method: r0.method,
      setting: r0.setting,
      lag: r0.lag,
      runs,
      scores,
      n: runs.length,
      iqm: scores.length > 0 ? iqmCI([scores], BOOT) : null,
      collapsed,
      collapse: wilson(collapsed, runs.length),
      reached: runs.filter((r) => r.stepsToThreshold !== null).length,
      medianSteps: Number.isFinite(mid) ? mid : null,
      wallS: runs.reduce((s, r) => s + r.wallS, 0),
    });
  }
  return cells;
}

export type Verdict = 'ahead' | 'behind' | 'not resolved' | 'too few seeds';

/** P(X > Y) with its CI and what it says: ahead (CI above 1/2), behind (below), not resolved, or too few seeds. */
export interface Comparison {
  poi: Interval | null;
  verdict: Verdict;
  nx: number;
  ny: number;
}

export function compare(x: Cell | undefined, y: Cell | undefined): Comparison {
  const nx = x?.scores.length ?? 0;
  const ny = y?.scores.length ?? 0;
  if (!x || !y || nx === 0 || ny === 0) return { poi: null, verdict: 'too few seeds', nx, ny };
  const poi = probabilityOfImprovement([x.scores], [y.scores], BOOT);
  if (nx < MIN_SEEDS || ny < MIN_SEEDS) return { poi, verdict: 'too few seeds', nx, ny };
  return { poi, verdict: poi.lo > 0.5 ? 'ahead' : poi.hi < 0.5 ? 'behind' : 'not resolved', nx, ny };
}

/**
 * P(X > Y) pooled over the tasks of a family (rliable's form: the mean over tasks of each task's
 * P, bootstrapped within each task), over the pairs where both cells have MIN_SEEDS+ scores;
 * null when fewer than two tasks qualify.
 */
export function compareFamily(pairs: readonly [Cell | undefined, Cell | undefined][]): (Comparison & { tasks: number }) | null {
  const ok = pairs.filter(
    (p): p is [Cell, Cell] =>
      p[0] !== undefined && p[1] !== undefined && p[0].scores.length >= MIN_SEEDS && p[1].scores.length >= MIN_SEEDS,
  );
  if (ok.length < 2) return null;
  const poi = probabilityOfImprovement(
    ok.map((p) => p[0].scores),
    ok.map((p) => p[1].scores),
    BOOT,
  );
  const nx = ok.reduce((s, p) => s + p[0].scores.length, 0);
  const ny = ok.reduce((s, p) => s + p[1].scores.length, 0);
  return { poi, verdict: poi.lo > 0.5 ? 'ahead' : poi.hi < 0.5 ? 'behind' : 'not resolved', nx, ny, tasks: ok.length };
}

/**
 * Two collapse rates told apart by their Wilson intervals: 'higher' / 'lower' when the intervals
 * do not overlap, else 'not resolved' (or 'too few seeds' below MIN_SEEDS).
 */
export function compareRates(kx: number, nx: number, ky: number, ny: number): 'higher' | 'lower' | 'not resolved' | 'too few seeds' {
  if (nx < MIN_SEEDS || ny < MIN_SEEDS) return 'too few seeds';
  const a = wilson(kx, nx);
  const b = wilson(ky, ny);
  return a.lo > b.hi ? 'higher' : a.hi < b.lo ? 'lower' : 'not resolved';
}

/** A number for people: 3 significant figures at most, no trailing zeros beyond them. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(2);
}

export function fmtInterval(i: Interval | null): string {
  return i === null ? '-' : `${fmt(i.value)} [${fmt(i.lo)}, ${fmt(i.hi)}]`;
}

/** `k/n (p [lo, hi])` for a rate with its Wilson interval. */
export function fmtRate(k: number, n: number): string {
  if (n === 0) return '-';
  const w = wilson(k, n);
  return `${k}/${n} [${fmt(w.lo)}, ${fmt(w.hi)}]`;
}
