/**
 * Robust statistics over few seeds, after Agarwal et al., "Deep RL at the Edge of the
 * Statistical Precipice" (NeurIPS 2021, the `rliable` library): interquartile mean, stratified
 * bootstrap percentile confidence intervals, probability of improvement, performance profiles,
 * and a Wilson interval for a rate (collapses). Pure functions; the bootstrap draws from the
 * project's seeded generator (model/rng.ts) so a report is reproducible.
 */

import { Rng } from '../model/rng.js';
import { mean } from './stats.js';

/**
 * Trimmed mean as scipy.stats.trim_mean(x, p): sort, cut int(p * n) values from each end, mean
 * of the rest. p = 0.25 is the interquartile mean (IQM); with n < 4 nothing is cut.
 */
export function trimMean(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError('trimMean: no values');
  if (!(p >= 0 && p < 0.5)) throw new RangeError(`trimMean: proportion must be in [0, 0.5), got ${p}`);
  const s = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(p * s.length);
  return mean(s.slice(cut, s.length - cut));
}

/** Interquartile mean: trimMean(xs, 0.25). */
export function iqm(xs: readonly number[]): number {
  return trimMean(xs, 0.25);
}

/** The q-quantile (0..1) of `xs` with linear interpolation between order statistics (numpy's default, Hyndman-Fan type 7). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError('quantile: no values');
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/** A point estimate with a confidence interval; lo = hi = value when there is nothing to resample. */
export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  /** Bootstrap resamples (default 2000). */
  reps?: number;
  /** Generator seed (default 0). */
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

export const DEFAULT_BOOTSTRAP = 2000;

function checkBootstrap(o: BootstrapOptions): Required<BootstrapOptions> {
  const reps = o.reps ?? DEFAULT_BOOTSTRAP;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`bootstrap: reps must be a positive integer, got ${reps}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must be in (0, 1), got ${level}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`bootstrap: seed must be an integer, got ${seed}`);
  return { reps, level, seed };
}

/** Resample each stratum with replacement within itself (same size). */
function resampleStrata(strata: readonly (readonly number[])[], rng: Rng): number[][] {
  return strata.map((s) => {
    const out = new Array<number>(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s[rng.int(s.length)]!;
    return out;
  });
}

/**
 * Stratified bootstrap percentile CI of `stat` over `strata` (one array of runs per task): each
 * resample draws runs with replacement within every task, so every task keeps its run count.
 * value = stat of the data itself; lo / hi = the (1-level)/2 and (1+level)/2 quantiles of the
 * resampled statistics.
 */
export function stratifiedBootstrap(
  strata: readonly (readonly number[])[],
  stat: (strata: readonly (readonly number[])[]) => number,
  options: BootstrapOptions = {},
): Interval {
  const o = checkBootstrap(options);
  const used = strata.filter((s) => s.length > 0);
  if (used.length === 0) throw new RangeError('stratifiedBootstrap: no values');
  const rng = new Rng(o.seed);
  const draws = new Array<number>(o.reps);
  for (let r = 0; r < o.reps; r++) draws[r] = stat(resampleStrata(used, rng));
  return { value: stat(used), lo: quantile(draws, (1 - o.level) / 2), hi: quantile(draws, (1 + o.level) / 2) };
}

/** IQM over every run of every task (normalised scores pooled) with its stratified bootstrap CI. */
export function iqmCI(strata: readonly (readonly number[])[], options: BootstrapOptions = {}): Interval {
  return stratifiedBootstrap(strata, (s) => iqm(s.flat()), options);
}

/** Mean over every run of every task with its stratified bootstrap CI. */
export function meanBootCI(strata: readonly (readonly number[])[], options: BootstrapOptions = {}): Interval {
  return stratifiedBootstrap(strata, (s) => mean(s.flat()), options);
}

/**
 * P(X > Y) for one task, the Mann-Whitney form rliable uses: the fraction of pairs (x, y) with
 * x > y, ties counting one half.
 */
export function probabilityOfImprovement1(x: readonly number[], y: readonly number[]): number {
  if (x.length === 0 || y.length === 0) throw new RangeError('probabilityOfImprovement: both samples need values');
  let s = 0;
  for (const a of x) for (const b of y) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (x.length * y.length);
}

/**
 * Probability of improvement of X over Y averaged over tasks (xs[t], ys[t] are task t's runs),
 * with a stratified bootstrap CI that resamples X's and Y's runs independently within each task.
 */
export function probabilityOfImprovement(
  xs: readonly (readonly number[])[],
  ys: readonly (readonly number[])[],
  options: BootstrapOptions = {},
): Interval {
  if (xs.length !== ys.length || xs.length === 0)
    throw new RangeError(`probabilityOfImprovement: needs the same tasks on both sides, got ${xs.length} and ${ys.length}`);
  const tasks = xs.length;
  const poi = (all: readonly (readonly number[])[]) => {
    let s = 0;
    for (let t = 0; t < tasks; t++) s += probabilityOfImprovement1(all[t]!, all[tasks + t]!);
    return s / tasks;
  };
  return stratifiedBootstrap([...xs, ...ys], poi, options);
}

/** A Wilson score interval for a rate of `k` events in `n` trials (z = 1.96 for 95%). */
export function wilson(k: number, n: number, z = 1.959963984540054): Interval {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n <= 0 || k < 0 || k > n) {
    throw new RangeError(`wilson: needs integers 0 <= k <= n, n > 0; got k = ${k}, n = ${n}`);
  }
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { value: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Performance profile: for each tau, the fraction of runs scoring above tau, averaged over tasks. */
export function performanceProfile(strata: readonly (readonly number[])[], taus: readonly number[]): number[] {
  const used = strata.filter((s) => s.length > 0);
  if (used.length === 0) throw new RangeError('performanceProfile: no values');
  return taus.map((tau) => mean(used.map((s) => s.filter((x) => x > tau).length / s.length)));
}

/** `points` evenly spaced values from `lo` to `hi` inclusive. */
export function linspace(lo: number, hi: number, points: number): number[] {
  if (points < 2) return [lo];
  return Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

/** (x - random) / (max - random): 0 = the random policy, 1 = the task's maximum return. */
export function normalise(x: number, random: number, max: number): number {
  if (!(max !== random)) throw new RangeError(`normalise: max (${max}) must differ from the random return (${random})`);
  return (x - random) / (max - random);
}

/**
 * Highest return an episode can reach, by env id (rewards per step times the episode limit):
 * CartPole-v1 +1 per step for 500 steps; Acrobot-v1 -1 per step until the goal, so at most 0.
 */
export const TASK_MAX_RETURN: Readonly<Record<string, number>> = Object.freeze({ 'CartPole-v1': 500, 'Acrobot-v1': 0 });
