/**
 * Pure functions from typed log records to tables: the per-lag-bucket diagnostics over a run,
 * the learning curve summary, throughput and rollout accounting. No I/O, no formatting.
 */
import {
  LAG_BUCKETS,
  TIME_SPLIT_KEYS,
  type ActorRecord,
  type LagBucketLabel,
  type LagBucketStat,
  type Quadrants,
  type RolloutAccounting,
  type SummaryRecord,
  type UpdateRecord,
  type UpdateTimeSplit,
} from '../protocol/records.js';

/** CartPole-v1's "solved" return; other environments' defaults are in thresholds.ts. */
export const DEFAULT_THRESHOLD = 475;

export const QUADRANT_KEYS = ['wHighAPos', 'wHighANeg', 'wLowAPos', 'wLowANeg'] as const satisfies readonly (keyof Quadrants)[];
export type QuadrantKey = (typeof QUADRANT_KEYS)[number];

/** One row of the lag table: sample-weighted means over every update's bucket stats. */
export interface LagRow {
  /** A LAG_BUCKETS label, or 'all' for the update-level figures. */
  bucket: LagBucketLabel | 'all';
  /** Samples summed over updates. */
  n: number;
  ess: number | null;
  essG: number | null;
  klMuPiK3: number | null;
  klPiMu: number | null;
  meanG: number | null;
  /** Mean g per quadrant, weighted by the quadrant's sample counts. */
  quadrantG: Record<QuadrantKey, number | null>;
}

/**
 * Per lag bucket over the whole run, in LAG_BUCKETS order, buckets with no samples left out,
 * then an 'all' row from the update-level fields. Every mean is weighted by sample count; a
 * null stat (empty bucket) carries no weight.
 */
export function lagTable(updates: readonly UpdateRecord[]): LagRow[] {
  const rows: LagRow[] = [];
  for (const b of LAG_BUCKETS) {
    const stats = updates.map((u) => u.lagBuckets[b]).filter((s): s is LagBucketStat => s !== undefined && s.n > 0);
    if (stats.length === 0) continue;
    rows.push({
      bucket: b,
      n: stats.reduce((s, x) => s + x.n, 0),
      ess: weightedMean(stats.map((s) => [s.n, s.ess])),
      essG: weightedMean(stats.map((s) => [s.n, s.essG])),
      klMuPiK3: weightedMean(stats.map((s) => [s.n, s.klMuPiK3])),
      klPiMu: weightedMean(stats.map((s) => [s.n, s.klPiMu])),
      meanG: weightedMean(stats.map((s) => [s.n, s.meanG])),
      quadrantG: quadrantMeans(stats.map((s) => s.quadrants)),
    });
  }
  if (updates.length > 0) {
    const w = (f: (u: UpdateRecord) => number | null) => weightedMean(updates.map((u) => [u.samples, f(u)]));
    rows.push({
      bucket: 'all',
      n: updates.reduce((s, u) => s + u.samples, 0),
      ess: w((u) => u.ess),
      essG: w((u) => u.essG),
      klMuPiK3: w((u) => u.klMuPiK3),
      klPiMu: w((u) => u.klPiMu),
      meanG: w((u) => u.meanG),
      quadrantG: quadrantMeans(updates.map((u) => u.quadrants)),
    });
  }
  return rows;
}

/** One point of the learning curve; series absent from the log are undefined. */
export interface CurvePoint {
  envSteps: number;
  version: number;
  stochastic?: number;
  greedy?: number;
  behaviour?: number;
}

export interface CurveSummary {
  /** 'eval' when any update carries `eval` (then stochastic eval is the primary series), else 'behaviour' (return.mean100). */
  source: 'eval' | 'behaviour';
  points: CurvePoint[];
  /** The primary series (envSteps, return), with the hold point appended when `holdToSteps` applied. */
  series: [number, number][];
  /** null: no threshold (then stepsToThreshold and firstReachedSteps are null). */
  threshold: number | null;
  /**
   * First env step from which the primary return stays >= the threshold to the end of the run
   * (and the summary's final evaluation, when present, is >= it too); null if it never holds.
   */
  stepsToThreshold: number | null;
  /** First env step at which the primary return reached the threshold at all (a short evaluation can be lucky). */
  firstReachedSteps: number | null;
  /** Trapezoid area under the primary series divided by its step span: mean return over the step axis. */
  auc: number | null;
  /** summary.finalEval.stochastic when present, else the last primary point. */
  finalReturn: number | null;
  finalSteps: number | null;
  /** When the series was held at the final return from the run's last step to `holdToSteps`: that last step. */
  heldFrom: number | null;
}

/**
 * The learning curve (return vs env steps) and its summary figures; see CurveSummary. With
 * `holdToSteps` beyond the run's last step (a run stopped early at its target return), the
 * series is held at the final return up to `holdToSteps`, so AUC compares with full-length runs.
 */
export function learningCurve(
  updates: readonly UpdateRecord[],
  summary: SummaryRecord | null,
  threshold: number | null = DEFAULT_THRESHOLD,
  holdToSteps?: number,
): CurveSummary {
  const source = updates.some((u) => u.eval !== undefined) ? 'eval' : 'behaviour';
  const points: CurvePoint[] = [];
  for (const u of updates) {
    const p: CurvePoint = { envSteps: u.envSteps, version: u.version };
    if (u.eval) {
      p.stochastic = u.eval.stochastic;
      p.greedy = u.eval.greedy;
    }
    if (u.return.mean100 !== null) p.behaviour = u.return.mean100;
    if (p.stochastic !== undefined || p.behaviour !== undefined) points.push(p);
  }
  const primary = primarySeries(points, source);
  const hit = threshold === null ? undefined : primary.find(([, r]) => r >= threshold);
  let finalReturn = primary.length > 0 ? primary[primary.length - 1]![1] : null;
  let finalSteps = primary.length > 0 ? primary[primary.length - 1]![0] : null;
  if (summary?.finalEval) {
    finalReturn = summary.finalEval.stochastic;
    finalSteps = summary.envSteps;
  }
  let held: number | null = null;
  if (threshold !== null && finalReturn !== null && finalReturn >= threshold) {
    for (let i = primary.length - 1; i >= 0 && primary[i]![1] >= threshold; i--) held = primary[i]![0];
    if (held === null && finalSteps !== null) held = finalSteps;
  }
  const series = [...primary];
  let heldFrom: number | null = null;
  const lastStep = finalSteps ?? primary[primary.length - 1]?.[0];
  if (holdToSteps !== undefined && finalReturn !== null && lastStep !== undefined && holdToSteps > lastStep) {
    if (summary?.finalEval) series.push([lastStep, finalReturn]);
    series.push([holdToSteps, finalReturn]);
    heldFrom = lastStep;
  }
  return {
    source,
    points,
    series,
    threshold,
    stepsToThreshold: held,
    firstReachedSteps: hit ? hit[0] : null,
    auc: trapezoidMean(series),
    finalReturn,
    finalSteps,
    heldFrom,
  };
}

/** The (envSteps, return) pairs of the curve's primary series. */
export function primarySeries(points: readonly CurvePoint[], source: 'eval' | 'behaviour'): [number, number][] {
  const out: [number, number][] = [];
  for (const p of points) {
    const r = source === 'eval' ? p.stochastic : p.behaviour;
    if (r !== undefined) out.push([p.envSteps, r]);
  }
  return out;
}

/** Trapezoid integral of y over x divided by the x span; the single y for one point; null for none. */
export function trapezoidMean(xy: readonly [number, number][]): number | null {
  if (xy.length === 0) return null;
  const span = xy[xy.length - 1]![0] - xy[0]![0];
  if (xy.length === 1 || span <= 0) return xy.reduce((s, p) => s + p[1], 0) / xy.length;
  let area = 0;
  for (let i = 1; i < xy.length; i++) area += ((xy[i]![1] + xy[i - 1]![1]) / 2) * (xy[i]![0] - xy[i - 1]![0]);
  return area / span;
}

export interface Throughput {
  updates: number;
  envSteps: number;
  wallSeconds: number | null;
  /** Mean of the learner's per-update fps. */
  learnerFpsMean: number | null;
  /** summary.envSteps / summary.wallSeconds. */
  overallFps: number | null;
  actors: number;
  /** Sum over actors of each actor's mean reported fps. */
  actorFpsTotal: number | null;
  /** Mean ms per update of each part of the learner's time split, over the updates that log it; null when none does. */
  timeSplit: UpdateTimeSplit | null;
}

/** Mean of each part of the update time split over the updates that carry one (null when none). */
export function meanTimeSplit(updates: readonly UpdateRecord[]): UpdateTimeSplit | null {
  const withSplit = updates.filter((u) => u.timeMs !== undefined);
  if (withSplit.length === 0) return null;
  const out = Object.fromEntries(TIME_SPLIT_KEYS.map((k) => [k, 0])) as unknown as UpdateTimeSplit;
  for (const u of withSplit) for (const k of TIME_SPLIT_KEYS) out[k] += u.timeMs![k] / withSplit.length;
  return out;
}

/** Throughput figures of a run. */
export function throughput(updates: readonly UpdateRecord[], summary: SummaryRecord | null, actors: readonly ActorRecord[]): Throughput {
  const byActor = new Map<number, number[]>();
  for (const a of actors) byActor.set(a.actorId, [...(byActor.get(a.actorId) ?? []), a.fps]);
  const actorMeans = [...byActor.values()].map((f) => f.reduce((s, x) => s + x, 0) / f.length);
  const last = updates[updates.length - 1];
  return {
    updates: updates.length,
    envSteps: summary?.envSteps ?? last?.envSteps ?? 0,
    wallSeconds: summary?.wallSeconds ?? null,
    learnerFpsMean: updates.length > 0 ? updates.reduce((s, u) => s + u.fps, 0) / updates.length : null,
    overallFps: summary && summary.wallSeconds > 0 ? summary.envSteps / summary.wallSeconds : null,
    actors: byActor.size,
    actorFpsTotal: actorMeans.length > 0 ? actorMeans.reduce((s, x) => s + x, 0) : null,
    timeSplit: meanTimeSplit(updates),
  };
}

export interface Accounting extends Omit<RolloutAccounting, 'received'> {
  /** 'summary' when the run ended with a summary record, else the last update's running counts. */
  source: 'summary' | 'last-update' | 'none';
  /** Known only from a summary record. */
  received: number | null;
}

/** Rollout accounting: every rollout trained, dropped, rejected or lost, with reasons when known. */
export function accounting(updates: readonly UpdateRecord[], summary: SummaryRecord | null): Accounting {
  if (summary) {
    const { trained, dropped, rejected, lost, received, dropReasons, rejectReasons } = summary;
    return { source: 'summary', trained, dropped, rejected, lost, received, dropReasons, rejectReasons };
  }
  const last = updates[updates.length - 1];
  return {
    source: last ? 'last-update' : 'none',
    trained: last?.trained ?? 0,
    dropped: last?.dropped ?? 0,
    rejected: last?.rejected ?? 0,
    lost: last?.lost ?? 0,
    received: null,
    dropReasons: {},
    rejectReasons: {},
  };
}

/** Sum(n x) / sum(n) over pairs whose x is a finite number and n > 0; null when none. */
export function weightedMean(pairs: readonly [number, number | null | undefined][]): number | null {
  let sw = 0;
  let s = 0;
  for (const [n, x] of pairs) {
    if (x === null || x === undefined || !Number.isFinite(x) || !(n > 0)) continue;
    sw += n;
    s += n * x;
  }
  return sw > 0 ? s / sw : null;
}

function quadrantMeans(qs: readonly Quadrants[]): Record<QuadrantKey, number | null> {
  const out = {} as Record<QuadrantKey, number | null>;
  for (const k of QUADRANT_KEYS) out[k] = weightedMean(qs.map((q) => [q[k].n, q[k].meanG]));
  return out;
}
