/**
 * Figures of the learning benchmark, pure functions of run data: one cell's figures from its
 * RunData, and the per (method, lag) aggregate over seeds. Uses analysis/tables.ts for the
 * learning curve, the diagnostics and the quadrant means.
 */
import type { RunData } from '../analysis/read.js';
import { lagTable, learningCurve, QUADRANT_KEYS, type QuadrantKey } from '../analysis/tables.js';
import { trainQuadrantTable } from '../analysis/outcome.js';
import { mean, meanCI, type MeanCI } from '../analysis/stats.js';

/** Entropy (nats) under which a policy worse than random counts as collapsed. */
export const COLLAPSE_ENTROPY = 0.05;

export interface CellFigures {
  name: string;
  label: string;
  lag: number;
  seed: number;
  envSteps: number;
  wallSeconds: number;
  /** 'eval' when the curve is the periodic stochastic evaluation, else 'behaviour'. */
  curveSource: 'eval' | 'behaviour';
  /** First env step at which the curve reached the threshold; null if never. */
  stepsToThreshold: number | null;
  finalStochastic: number | null;
  finalGreedy: number | null;
  finalEvalEpisodes: number | null;
  finalBehaviour: number | null;
  /** Mean return over the step axis (trapezoid area / span). */
  auc: number | null;
  ess: number | null;
  klK3: number | null;
  finalEntropy: number | null;
  randomReturn: number | null;
  collapsed: boolean;
  collapseWhy: string | null;
  /** Mean g per quadrant over the last 10 updates (sample-weighted). */
  endQuadrantG: Record<QuadrantKey, number | null>;
}

/** One cell's figures. `threshold` is the solved return (475 for CartPole-v1). */
export function cellFigures(name: string, label: string, lag: number, seed: number, run: RunData, threshold: number): CellFigures {
  const u = run.updates;
  const s = run.summary;
  const curve = learningCurve(u, s, threshold);
  const all = lagTable(u).find((r) => r.bucket === 'all');
  const end = lagTable(u.slice(-10)).find((r) => r.bucket === 'all');
  const last = u[u.length - 1];
  const finalEntropy = last?.entropy ?? null;
  const tail = u.slice(Math.floor(u.length * 0.8));
  let collapseWhy: string | null = null;
  const flagged = tail.filter((x) => x.collapsed === true).length;
  if (flagged > 0) collapseWhy = `${flagged} update(s) flagged collapsed in the last 20%`;
  else if (finalEntropy !== null && finalEntropy < COLLAPSE_ENTROPY && s?.finalEval && s.finalEval.stochastic < s.randomReturn) {
    collapseWhy = `final entropy ${finalEntropy.toFixed(3)} < ${COLLAPSE_ENTROPY} and final eval ${s.finalEval.stochastic.toFixed(1)} < random ${s.randomReturn.toFixed(1)}`;
  }
  const emptyQ = Object.fromEntries(QUADRANT_KEYS.map((k) => [k, null])) as Record<QuadrantKey, number | null>;
  // g as the gradient steps used it (all epochs) over the first 10% of updates, when logged:
  // that is when a collapse happens (docs/METHODS.md section 3.6); once a policy is deterministic w = 1 and
  // every quadrant's g is 1. The before-update quadrants are all 1 at lag 0.
  const tq = trainQuadrantTable(u.slice(0, Math.max(1, Math.ceil(u.length / 10))));
  const trainQ =
    tq.updatesWith > 0
      ? (Object.fromEntries(QUADRANT_KEYS.map((k) => [k, tq.rows.find((r) => r.quadrant === k)?.meanG ?? null])) as Record<
          QuadrantKey,
          number | null
        >)
      : null;
  return {
    name,
    label,
    lag,
    seed,
    envSteps: s?.envSteps ?? last?.envSteps ?? 0,
    wallSeconds: s?.wallSeconds ?? 0,
    curveSource: curve.source,
    stepsToThreshold: curve.stepsToThreshold,
    finalStochastic: s?.finalEval?.stochastic ?? null,
    finalGreedy: s?.finalEval?.greedy ?? null,
    finalEvalEpisodes: s?.finalEval?.episodes ?? null,
    finalBehaviour: s?.return.mean100 ?? last?.return.mean100 ?? null,
    auc: curve.auc,
    ess: all?.ess ?? null,
    klK3: all?.klMuPiK3 ?? null,
    finalEntropy,
    randomReturn: s?.randomReturn ?? null,
    collapsed: collapseWhy !== null,
    collapseWhy,
    endQuadrantG: trainQ ?? end?.quadrantG ?? emptyQ,
  };
}

export interface CellAggregate {
  label: string;
  lag: number;
  seeds: number;
  /** Median over seeds of steps to threshold, a seed that never got there counting as infinity; null if the median is infinite. */
  medianStepsToThreshold: number | null;
  reached: number;
  finalStochastic: MeanCI | null;
  finalGreedy: MeanCI | null;
  finalBehaviour: number | null;
  auc: number | null;
  ess: number | null;
  klK3: number | null;
  finalEntropy: number | null;
  collapsed: number;
  endQuadrantG: Record<QuadrantKey, number | null>;
}

/** Median of numbers (Infinity allowed); null for none or an infinite median. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return Number.isFinite(m) ? m : null;
}

const finite = (xs: (number | null)[]): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));
const meanOrNull = (xs: (number | null)[]): number | null => {
  const f = finite(xs);
  return f.length ? mean(f) : null;
};
const ciOrNull = (xs: (number | null)[]): MeanCI | null => {
  const f = finite(xs);
  return f.length ? meanCI(f) : null;
};

/** Aggregate the cells of one (method label, lag) over seeds. */
export function aggregate(cells: readonly CellFigures[]): CellAggregate {
  const c0 = cells[0]!;
  return {
    label: c0.label,
    lag: c0.lag,
    seeds: cells.length,
    medianStepsToThreshold: median(cells.map((c) => c.stepsToThreshold ?? Infinity)),
    reached: cells.filter((c) => c.stepsToThreshold !== null).length,
    finalStochastic: ciOrNull(cells.map((c) => c.finalStochastic)),
    finalGreedy: ciOrNull(cells.map((c) => c.finalGreedy)),
    finalBehaviour: meanOrNull(cells.map((c) => c.finalBehaviour)),
    auc: meanOrNull(cells.map((c) => c.auc)),
    ess: meanOrNull(cells.map((c) => c.ess)),
    klK3: meanOrNull(cells.map((c) => c.klK3)),
    finalEntropy: meanOrNull(cells.map((c) => c.finalEntropy)),
    collapsed: cells.filter((c) => c.collapsed).length,
    endQuadrantG: Object.fromEntries(QUADRANT_KEYS.map((k) => [k, meanOrNull(cells.map((c) => c.endQuadrantG[k]))])) as Record<
      QuadrantKey,
      number | null
    >,
  };
}
