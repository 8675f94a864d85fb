/**
 * The learner's hyperparameters: the subset of the run config that the update reads. Every
 * field is documented on `TrainConfig` in deploy/config.ts, which contains these fields.
 */
import type { ObjectiveConfig } from './objectives/config.js';

export type AdvantageKind = 'gae' | 'vtrace';

export interface LearnerConfig {
  objective: ObjectiveConfig;
  advantage: AdvantageKind;
  normalizeAdvantages: boolean;
  discount: number;
  lambda: number;
  lr: number;
  annealLr: boolean;
  adamEps: number;
  epochs: number;
  minibatches: number;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  /** Step budget, for the learning-rate schedule. */
  steps: number;
  /** Gradient computation: 'js' (float64 hand-written backward pass, default) or 'tfjs' (autodiff). */
  grad: 'js' | 'tfjs';
}

/** What the learner process reads besides the update's hyperparameters (see TrainConfig). */
export interface LearnerServerConfig extends LearnerConfig {
  runId: string;
  env: string;
  seed: number;
  hidden: number[];
  actors: number;
  workers: number;
  batchSegments: number;
  maxLag: number;
  historyVersions: number;
  queueCapacity: number;
  timeSec: number;
  targetReturn: number | null;
  evalEvery: number;
  evalEpisodes: number;
  finalEvalEpisodes: number;
  collapseEntropy: number;
  deterministic: boolean;
}
