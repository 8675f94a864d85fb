/**
 * The learner's log records, built from what the loop measured: one `update` record per
 * update and one `summary` record at the end (types in protocol/records.ts, the contract with
 * analysis/). Pure functions of their inputs, so every field can be tested without a run.
 */
import type { BaseRecord, EvalStat, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import type { IntakeCounts } from './intake.js';
import type { UpdateStats, UpdateTimes } from './learner.js';

/** Behaviour episode returns: the mean of the last `size` and the count of all. */
export class ReturnWindow {
  private readonly last: number[] = [];
  episodes = 0;

  constructor(readonly size = 100) {}

  note(r: number): void {
    this.last.push(r);
    if (this.last.length > this.size) this.last.shift();
    this.episodes++;
  }

  /** Mean of the last `size` returns; null before the first episode. */
  get mean(): number | null {
    return this.last.length ? this.last.reduce((a, b) => a + b, 0) / this.last.length : null;
  }

  /** The window's contents, for a checkpoint. */
  snapshot(): { last: number[]; episodes: number } {
    return { last: [...this.last], episodes: this.episodes };
  }

  /** Continue from `snapshot()` (on resume). */
  restore(s: { last: number[]; episodes: number }): void {
    this.last.splice(0, this.last.length, ...s.last.slice(-this.size));
    this.episodes = s.episodes;
  }

  get summary(): { mean100: number | null; episodes: number } {
    return { mean100: this.mean, episodes: this.episodes };
  }
}

/** An update record without the fields the logger adds (level, time, role, backend, runId). */
export type UpdateFields = Omit<UpdateRecord, keyof BaseRecord>;

export interface UpdateInput {
  /** Epoch ms of the record (the loop's clock), and the run it belongs to. */
  time: number;
  runId: string;
  backend: string;
  /** The version this update produced. */
  version: number;
  /** Env steps trained on so far, this update included. */
  envSteps: number;
  method: string;
  stats: UpdateStats;
  returns: ReturnWindow;
  /** The evaluation that became ready at this update, if any. */
  eval: EvalStat | undefined;
  /** The latest evaluation so far (this one included), for the collapse flag. */
  lastEval: EvalStat | undefined;
  /** Mean return of a uniform policy, and the entropy under which a policy counts as collapsed. */
  randomReturn: number;
  collapseEntropy: number;
  /** Env steps per second since the previous update. */
  fps: number;
  queueDepth: number;
  counts: IntakeCounts;
  /** Environment steps of every evaluation so far. */
  evalEnvSteps: number;
  /** Where the update's time went, ms (the learner's split plus waiting and publishing). */
  timeMs: UpdateTimes & { waitMs: number; publishMs: number };
}

/** Steps per second over `steps` steps in `ms` milliseconds (ms floored at 1). */
export function stepsPerSecond(steps: number, ms: number): number {
  return (steps * 1000) / Math.max(1, ms);
}

/** The whole update record, with the fields every learner line carries (level 30, role 'learner'). */
export function updateRecord(u: UpdateInput): UpdateRecord {
  const {
    lagMin,
    lagMean,
    lagMax,
    samples,
    policyLoss,
    valueLoss,
    entropy,
    gradNorm,
    lr,
    nonFiniteSkips: _n,
    times: _t,
    ...diag
  } = u.stats;
  const t = u.timeMs;
  const k = u.counts;
  return {
    kind: 'update',
    level: 30,
    time: u.time,
    role: 'learner',
    backend: u.backend,
    runId: u.runId,
    version: u.version,
    envSteps: u.envSteps,
    samples,
    method: u.method,
    lag: { min: lagMin, mean: lagMean, max: lagMax },
    ...diag,
    policyLoss,
    valueLoss,
    entropy,
    gradNorm,
    lr,
    return: u.returns.summary,
    ...(u.eval ? { eval: u.eval } : {}),
    collapsed: u.lastEval !== undefined && entropy < u.collapseEntropy && u.lastEval.stochastic < u.randomReturn,
    fps: u.fps,
    queueDepth: u.queueDepth,
    trained: k.trained,
    dropped: k.dropped,
    rejected: k.rejected,
    lost: k.lost,
    evalEnvSteps: u.evalEnvSteps,
    timeMs: { wait: t.waitMs, batch: t.batchMs, grad: t.gradMs, allReduce: t.allReduceMs, optimiser: t.optimiserMs, publish: t.publishMs },
  };
}

export interface SummaryInput {
  runId: string;
  backend: string;
  /** Epoch ms now, and at the start. */
  now: number;
  t0: number;
  version: number;
  envSteps: number;
  evalEnvSteps: number;
  counts: IntakeCounts;
  /** Absent when the final evaluation failed (`finalEvalError` says why). */
  finalEval: EvalStat | undefined;
  finalEvalError?: string;
  /** The first evaluation the environment was to blame for (it hung or returned bad values; learner/evalScheduler.ts). */
  evalError?: string;
  /** The run stopped because it could not go on (StopPolicy.cannotLearn), an evaluation's environment failed (`evalError`), or the final evaluation failed (`finalEvalError`). */
  failed?: boolean;
  randomReturn: number;
  returns: ReturnWindow;
  stopReason: string;
}

export function summaryRecord(s: SummaryInput): SummaryRecord {
  const k = s.counts;
  return {
    kind: 'summary',
    level: 30,
    time: s.now,
    role: 'learner',
    backend: s.backend,
    runId: s.runId,
    version: s.version,
    envSteps: s.envSteps,
    evalEnvSteps: s.evalEnvSteps,
    wallSeconds: (s.now - s.t0) / 1000,
    trained: k.trained,
    dropped: k.dropped,
    rejected: k.rejected,
    lost: k.lost,
    received: k.received,
    dropReasons: k.dropReasons,
    rejectReasons: k.rejectReasons,
    finalEval: s.finalEval,
    randomReturn: s.randomReturn,
    return: s.returns.summary,
    stopReason: s.stopReason,
    ...(s.finalEvalError !== undefined ? { finalEvalError: s.finalEvalError } : {}),
    ...(s.evalError !== undefined ? { evalError: s.evalError } : {}),
    ...(s.failed === true ? { failed: true } : {}),
  };
}

/** A record's own fields, without those the logger adds to every line (level, time, role, backend, runId, msg). */
function ownFields<R extends BaseRecord>(r: R): Omit<R, keyof BaseRecord> {
  const { level: _l, time: _t, role: _r, backend: _b, runId: _i, msg: _m, ...fields } = r;
  return fields;
}

/** The summary's own fields, without those the logger adds to every line. */
export function summaryFields(s: SummaryRecord): Omit<SummaryRecord, keyof BaseRecord> {
  return ownFields(s);
}

/** The update record's own fields, as the logger writes them (it adds its own level, time and bindings). */
export function updateFields(u: UpdateRecord): UpdateFields {
  return ownFields(u);
}
