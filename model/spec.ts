/**
 * What an actor and the learner must agree on before any rollout crosses the wire: the
 * environment's shapes and the network's architecture. The model hash travels in every
 * hello and parameter message so that a mismatch is rejected, not silently trained on.
 */
import type { HeadKind } from './distributions.js';

export type { HeadKind };

/** Shapes of an environment, as announced by actors and validated by the learner. */
export interface EnvSpec {
  /** Gymnasium-style id, e.g. 'CartPole-v1'. */
  id: string;
  /** Length of the float32 observation vector. */
  obsDim: number;
  /** Number of discrete actions, or the dimension A of a box action. */
  nActions: number;
  /** Episode step limit (truncation, not termination). */
  maxEpisodeSteps: number;
  /** 'box' for real-valued actions (nActions = A floats per action); absent or 'discrete' otherwise. */
  actionKind?: ActionKind;
  /**
   * Declared bounds [low, high] of one step's reward (envs/api.ts `rewardRange`); absent: the
   * learner assumes |r| <= DEFAULT_REWARD_BOUND (protocol/validate.ts).
   */
  rewardRange?: readonly [number, number];
}

/** Discrete actions (a categorical policy) or a box of real actions (a diagonal Gaussian policy). */
export type ActionKind = 'discrete' | 'box';

/** Architecture of the separate policy and value MLPs (tanh hidden layers). */
export interface ModelSpec {
  obsDim: number;
  /** Width of the policy output: discrete actions (categorical) or action dimensions A (gaussian). */
  nActions: number;
  /** Hidden layer widths, shared by the policy and the value network, e.g. [64, 64]. */
  hidden: number[];
  /**
   * 'gaussian': the policy output is the mean of a diagonal Gaussian and a learned state-
   * independent log standard deviation (nActions floats) follows the value network in the
   * flat vector. Absent = 'categorical'.
   */
  head?: HeadKind;
  /** Canonical JSON of the environment's spec (envs/check.ts `specKey`), hashed into `modelHash`. */
  envKey?: string;
}

/** The head of `spec` ('categorical' when not set). */
export function headOf(spec: ModelSpec): HeadKind {
  return spec.head ?? 'categorical';
}
