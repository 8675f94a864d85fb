/**
 * How a run ended and what its training did: the final entropy, the collapse flag, the
 * summary's final evaluation, random return and stop reason, and g per quadrant over every
 * gradient step (`trainQuadrants`). Pure functions of typed log records; no formatting.
 */
import type { EvalStat, Quadrants, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import type { RunConfig } from './read.js';
import { QUADRANT_KEYS, weightedMean, type QuadrantKey } from './tables.js';

/** The end of a run, from the last update and the summary record. */
export interface RunOutcome {
  /** Policy entropy (nats) of the last update; null without updates. */
  finalEntropy: number | null;
  /** The first update flagged `collapsed`; null if none was. */
  collapsedAt: { version: number; envSteps: number } | null;
  /** The last update is flagged `collapsed`. */
  collapsedAtEnd: boolean;
  /** summary.finalEval: the current policy at the end, over --final-eval-episodes. */
  finalEval: EvalStat | null;
  /** summary.randomReturn: a uniform policy's return (the collapse baseline). */
  randomReturn: number | null;
  stopReason: string | null;
  /**
   * The run stopped before its step budget because an evaluation reached --target-return and a
   * final evaluation confirmed it: its return after the stop is taken as its final evaluation.
   */
  stoppedAtTarget: boolean;
}

/** The outcome of a run; see RunOutcome. Works on logs that lack the newer fields (then null / false). */
export function runOutcome(updates: readonly UpdateRecord[], summary: SummaryRecord | null, config?: RunConfig): RunOutcome {
  const last = updates[updates.length - 1];
  const first = updates.find((u) => u.collapsed === true);
  const finalEval = summary?.finalEval ?? null;
  const target = config?.targetReturn;
  const stoppedAtTarget =
    summary !== null &&
    finalEval !== null &&
    typeof target === 'number' &&
    finalEval.stochastic >= target &&
    (config?.steps === undefined || summary.envSteps < config.steps);
  return {
    finalEntropy: last && Number.isFinite(last.entropy) ? last.entropy : null,
    collapsedAt: first ? { version: first.version, envSteps: first.envSteps } : null,
    collapsedAtEnd: last?.collapsed === true,
    finalEval,
    randomReturn: typeof summary?.randomReturn === 'number' ? summary.randomReturn : null,
    stopReason: typeof summary?.stopReason === 'string' ? summary.stopReason : null,
    stoppedAtTarget,
  };
}

/** One row of the training-quadrant table: samples and mean g over every gradient step. */
export interface TrainQuadrantRow {
  quadrant: QuadrantKey | 'all';
  /** Samples (summed over gradient steps and epochs) over the whole run. */
  n: number;
  meanG: number | null;
  /** The same over the last 10% of updates. */
  nLast: number;
  meanGLast: number | null;
}

export interface TrainQuadrantSummary {
  /** Updates in the run, and how many carry `trainQuadrants` (0 for logs that predate the field). */
  updates: number;
  updatesWith: number;
  /** Updates in the last-10% window: ceil(updates / 10). */
  lastUpdates: number;
  /** One row per quadrant, then 'all'; empty when no update carries `trainQuadrants`. */
  rows: TrainQuadrantRow[];
}

/** Sample-weighted mean g per quadrant from `trainQuadrants`, over the run and over its last 10% of updates. */
export function trainQuadrantTable(updates: readonly UpdateRecord[]): TrainQuadrantSummary {
  const lastUpdates = Math.ceil(updates.length / 10);
  const all = updates.map((u) => u.trainQuadrants).filter((q): q is Quadrants => q !== null && q !== undefined);
  const last = updates
    .slice(updates.length - lastUpdates)
    .map((u) => u.trainQuadrants)
    .filter((q): q is Quadrants => q !== null && q !== undefined);
  const rows: TrainQuadrantRow[] = [];
  if (all.length > 0) {
    for (const k of QUADRANT_KEYS) {
      rows.push({ quadrant: k, ...pool(all.map((q) => [q[k]])), ...lastOf(pool(last.map((q) => [q[k]]))) });
    }
    rows.push({
      quadrant: 'all',
      ...pool(all.map((q) => QUADRANT_KEYS.map((k) => q[k]))),
      ...lastOf(pool(last.map((q) => QUADRANT_KEYS.map((k) => q[k])))),
    });
  }
  return { updates: updates.length, updatesWith: all.length, lastUpdates, rows };
}

function pool(groups: readonly { n: number; meanG: number | null }[][]): { n: number; meanG: number | null } {
  const stats = groups.flat();
  return { n: stats.reduce((s, x) => s + x.n, 0), meanG: weightedMean(stats.map((x) => [x.n, x.meanG])) };
}

function lastOf(p: { n: number; meanG: number | null }): { nLast: number; meanGLast: number | null } {
  return { nLast: p.n, meanGLast: p.meanG };
}
