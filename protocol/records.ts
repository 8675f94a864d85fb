/**
 * The NDJSON log schema: the contract between the learner and `analysis/`. Every line of a
 * process's log is a pino record; the records that analysis reads carry `kind`. The README's
 * "Log schema" section documents these fields; change both together.
 */

/** Fields pino and our logger put on every line. */
export interface BaseRecord {
  /** pino level (30 = info, 40 = warn, 50 = error). */
  level: number;
  /** Epoch milliseconds. */
  time: number;
  /** Which process wrote it. */
  role: 'learner' | 'actor' | 'launcher' | 'eval';
  /** Tensor backend in use: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'; 'js' where tfjs is not loaded (actors, the learner on --grad js). */
  backend: string;
  runId: string;
  msg?: string;
}

export interface MinMeanMax {
  min: number;
  mean: number;
  max: number;
}

/** One quadrant of (w > 1 or w <= 1) x (A > 0 or A <= 0). */
export interface QuadrantStat {
  n: number;
  /** Mean g over the quadrant's samples; null when n = 0. */
  meanG: number | null;
}

export interface Quadrants {
  wHighAPos: QuadrantStat;
  wHighANeg: QuadrantStat;
  wLowAPos: QuadrantStat;
  wLowANeg: QuadrantStat;
}

/** Lag bucket labels, docs/METHODS.md section 5. */
export const LAG_BUCKETS = ['0', '1', '2-3', '4-7', '8-15', '16-31', '32-63', '64+'] as const;
export type LagBucketLabel = (typeof LAG_BUCKETS)[number];

export interface LagBucketStat {
  n: number;
  ess: number | null;
  essG: number | null;
  klMuPiK1: number | null;
  klMuPiK3: number | null;
  klPiMu: number | null;
  meanG: number | null;
  quadrants: Quadrants;
}

/** Sequence tasks: the diagnostics of one source (policy or teacher) in one lag bucket. */
export interface SourceBucketStat {
  /** Tokens. */
  n: number;
  /** Responses that ended in the batch, and the share of them that matched exactly (null: none ended). */
  responses: number;
  success: number | null;
  ess: number | null;
  klMuPiK3: number | null;
  klPiMu: number | null;
  meanG: number | null;
  quadrants: Quadrants;
}

/** Sequence tasks: per token position, mean log w and mean g. */
export interface PositionStat {
  n: number;
  meanLogW: number;
  meanG: number;
}

export const SOURCES = ['policy', 'teacher'] as const;
export type SourceLabel = (typeof SOURCES)[number];

/** Sequence-task diagnostics of one update (present when the batch came from a sequence task). */
export interface SequenceStats {
  bySource: Partial<Record<SourceLabel, Partial<Record<LagBucketLabel, SourceBucketStat>>>>;
  /** Index = token position. */
  positions: PositionStat[];
}

/** One evaluation's figures (defined beside the evaluation episodes, envs/evaluate.ts). */
export type { EvalStat } from '../envs/evaluate.js';
import type { EvalStat } from '../envs/evaluate.js';

/**
 * Where one update's time went, ms of wall time (performance.now): waiting for rollouts, building
 * the batch (forward pass, log-ratios, advantages, diagnostics), gradients (forward and backward;
 * with learner threads, the time the main thread awaited them), summing the shard gradients,
 * clipping and Adam, publishing the parameters and acknowledging.
 */
export interface UpdateTimeSplit {
  wait: number;
  batch: number;
  grad: number;
  allReduce: number;
  optimiser: number;
  publish: number;
}

/** The keys of UpdateTimeSplit in pipeline order. */
export const TIME_SPLIT_KEYS = ['wait', 'batch', 'grad', 'allReduce', 'optimiser', 'publish'] as const;

/** Cumulative rollout accounting since start: how many rollouts were trained, dropped, rejected or lost. */
export interface RolloutCounts {
  trained: number;
  dropped: number;
  rejected: number;
  lost: number;
}

/** The whole accounting (summary records): the counts, what was received, and the reasons. */
export interface RolloutAccounting extends RolloutCounts {
  /** Rollouts received, by outcome; received = trained + dropped + rejected + pending (0 at the end). */
  received: number;
  dropReasons: Record<string, number>;
  rejectReasons: Record<string, number>;
}

/** One learner update. */
export interface UpdateRecord extends BaseRecord, RolloutCounts {
  kind: 'update';
  version: number;
  envSteps: number;
  samples: number;
  method: string;
  lag: MinMeanMax;
  ess: number;
  essG: number;
  klMuPiK1: number;
  klMuPiK3: number;
  klPiMu: number;
  /** w quantiles 5 / 50 / 95 %. */
  wQuantiles: { p05: number; p50: number; p95: number };
  meanH: number | null;
  meanGamma: number | null;
  meanG: number;
  /** max |log w| in the batch (on-policy: float32 rounding only). */
  maxAbsLogRatio: number;
  quadrants: Quadrants;
  /** Quadrants over every sample of every gradient step (all epochs), w against the parameters at that step; null in logs that predate it. */
  trainQuadrants: Quadrants | null;
  lagBuckets: Partial<Record<LagBucketLabel, LagBucketStat>>;
  /** Sequence tasks: per source and lag bucket, and per token position. */
  sequence?: SequenceStats;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  gradNorm: number;
  /** Learning rate used by this update. */
  lr: number;
  /** Behaviour (actor) episode returns: mean of the last 100 and total episodes so far. */
  return: { mean100: number | null; episodes: number };
  eval?: EvalStat;
  /** True when entropy is below the threshold and the eval return is below a random policy's. */
  collapsed?: boolean;
  fps: number;
  queueDepth: number;
  /** Environment steps of every evaluation so far (separate from envSteps, the training steps); absent in older logs. */
  evalEnvSteps?: number;
  /** Where the update's time went; absent in logs that predate it. */
  timeMs?: UpdateTimeSplit;
}

/** Periodic actor statistics. */
export interface ActorRecord extends BaseRecord {
  kind: 'actor';
  actorId: number;
  fps: number;
  segmentsSent: number;
  versionsReceived: number;
  lagUsed: MinMeanMax;
  envSteps: number;
}

/** An actor's ActorStats message as the learner received it (learner.ndjson), one per message. */
export interface ActorStatsRecord extends BaseRecord {
  kind: 'actor-stats';
  /** The actor id registered by the sending peer's hello. */
  actorId: number;
  /** The actor's numbers as sent: fps, segmentsSent, versionsReceived, lagMean, envSteps. */
  stats: Record<string, number>;
}

/** Written once by the learner at the end of a run. */
export interface SummaryRecord extends BaseRecord, RolloutAccounting {
  kind: 'summary';
  version: number;
  envSteps: number;
  /** Environment steps of every evaluation (random baseline, periodic, target check, final): not training steps. */
  evalEnvSteps?: number;
  wallSeconds: number;
  finalEval?: EvalStat;
  /** Mean return of a uniform-random policy (all-zero parameters), the collapse baseline. */
  randomReturn: number;
  /** Why the run stopped. */
  stopReason: string;
  /** The final evaluation failed (the environment threw or hung): its message; finalEval is then absent. */
  finalEvalError?: string;
  /**
   * The first evaluation (random baseline, periodic, target check or final) whose environment was
   * to blame: it hung past --env-timeout or returned bad values. The run stopped on it (or, for
   * the final evaluation, ended with it) and is `failed`.
   */
  evalError?: string;
  /** True when the run stopped because it could not go on (every rollout rejected: stopReason says why), or `evalError`, or `finalEvalError`; the learner exits 1. */
  failed?: boolean;
  return: { mean100: number | null; episodes: number };
}

export type LogRecord = UpdateRecord | ActorRecord | ActorStatsRecord | SummaryRecord;
