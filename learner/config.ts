/**
 * The learner's settings, by concern. `LearnerConfig` is what one update reads;
 * `LearnerServerConfig` is what the learner process reads; both are compositions of the group
 * interfaces (here, model/config.ts, envs/config.ts and protocol/actorsConfig.ts). Flags, defaults, ranges and help for every field
 * are in deploy/schema.ts; the run config (deploy/config.ts `RunConfig`) contains all of them.
 */
import type { ObjectiveConfig } from '../protocol/objectiveConfig.js';
import type { ActorsConfig } from '../protocol/actorsConfig.js';
import type { EnvConfig } from '../envs/config.js';
import type { ModelConfig } from '../model/config.js';

export type AdvantageKind = 'gae' | 'vtrace' | 'group' | 'reward';

/** Importance ratios per token, or one per response (the geometric mean of its token ratios, as GSPO). */
export type RatioKind = 'token' | 'sequence';

/** Objective group (owned by protocol/objectiveConfig.ts). */
export interface ObjectiveGroup {
  /** The off-policy correction (docs/METHODS.md section 2). */
  objective: ObjectiveConfig;
}

/** Learner-and-optimiser group: advantages, loss and Adam. */
export interface OptimiserConfig {
  advantage: AdvantageKind;
  normalizeAdvantages: boolean;
  discount: number;
  lambda: number;
  /** Adam learning rate; with annealLr it decays linearly over `steps`, floored at 2% of lr. */
  lr: number;
  annealLr: boolean;
  adamEps: number;
  epochs: number;
  minibatches: number;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  /** Gradient computation: 'js' (float64 hand-written backward pass) or 'tfjs' (autodiff). */
  grad: 'js' | 'tfjs';
  /**
   * Threads computing each minibatch's gradient (learner/threads.ts): 1 (or absent) = in this
   * thread; L > 1 = L worker threads on shards of the minibatch (js gradient path only).
   */
  learnerThreads?: number;
  /**
   * How the threads share the work (`--learner-parallel`): 'exact' (default) shards each
   * minibatch, the same update for any L; 'data' gives each thread a whole minibatch and
   * averages their gradients into one step (effective batch L x the minibatch).
   */
  learnerParallel?: 'exact' | 'data';
  /**
   * Run the updates on a thread of their own (learner/trainer.ts; default true, js gradient
   * path only), so that the main thread's intake overlaps them.
   */
  trainerThread?: boolean;
  /** Ratio per token (default) or per response (sequence tasks: segment = response). */
  ratio?: RatioKind;
}

/** Intake group (part of learner and optimiser): admission and backpressure. */
export interface IntakeConfig {
  /** Drop rollouts older than this many versions at admission; -1 = no limit. */
  maxLag: number;
  /** Intake queue capacity in segments. */
  queueCapacity: number;
}

/** Stopping group. */
export interface StopConfig {
  /** Environment-step budget (also the learning-rate schedule's horizon). */
  steps: number;
  /** Wall-time budget in seconds (0 = none). */
  timeSec: number;
  /** Stop when an evaluation reaches this mean return (null = never). */
  targetReturn: number | null;
}

/** Evaluation group. */
export interface EvalConfig {
  evalEvery: number;
  evalEpisodes: number;
  finalEvalEpisodes: number;
  /** Periodic evaluations use at most this share of the training steps, with fewer episodes when needed (absent or 0: no cap; learner/evalScheduler.ts). */
  evalShare?: number;
  /** Entropy (nats) below which a policy with eval return below random counts as collapsed. */
  collapseEntropy: number;
}

/** Checkpoint group (run group in deploy/schema.ts): how often the learner saves its state. */
export interface CheckpointConfig {
  /** Updates between checkpoints (0: not by count). */
  checkpointEvery: number;
  /** Seconds between checkpoints (0: not by time); with checkpointEvery, whichever comes first. */
  checkpointSeconds?: number;
  /** Checkpoints kept in <runDir>/checkpoints/. */
  keepCheckpoints: number;
}

/** The run group's fields the learner reads. */
export interface RunModeConfig {
  /** Run id, stamped on every log record. */
  runId: string;
  /** Fixed schedule of versions and training order. */
  deterministic: boolean;
  /** Stress tests: sleep this many ms in every update before its acks (a slower learner). */
  learnerDelayMs?: number;
}

/** What one update reads. */
export interface LearnerConfig extends ObjectiveGroup, OptimiserConfig, Pick<StopConfig, 'steps'> {
  /** Envs per group (group advantages; default 1). */
  groupSize?: number;
}

/** What the learner process reads. */
export interface LearnerServerConfig
  extends
    LearnerConfig,
    IntakeConfig,
    StopConfig,
    EvalConfig,
    EnvConfig,
    ModelConfig,
    RunModeConfig,
    CheckpointConfig,
    Pick<ActorsConfig, 'actors' | 'workers' | 'batchSegments' | 'historyVersions' | 'segmentSteps' | 'envsPerWorker' | 'heartbeatMs'> {}
