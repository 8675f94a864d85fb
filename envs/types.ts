/**
 * The discrete environment interface the actor's code steps (makeEnv in registry.ts). Every
 * simulator is a plug-in (api.ts) run by the framework (managed.ts), which seeds its resets,
 * counts steps and reports truncation at spec.maxEpisodeSteps (as Gymnasium's TimeLimit);
 * truncation is not termination: a truncated episode is bootstrapped from its final observation.
 */
import type { EnvSpec } from '../model/spec.js';
import type { Rng } from '../model/rng.js';

/** Result of one env step. `obs` is a fresh array the caller may keep. */
export interface StepResult {
  obs: Float32Array;
  reward: number;
  /** The MDP reached a terminal state (no bootstrap). */
  terminated: boolean;
  /** The step limit was reached (may be true together with terminated, as in Gymnasium). */
  truncated: boolean;
}

/** A single environment. Call `reset` before the first `step` and after every finished episode. */
export interface Env {
  readonly spec: EnvSpec;
  /** Start a new episode with randomness from `rng`; returns the first observation. */
  reset(rng: Rng): Float32Array;
  /** Apply a discrete action in [0, spec.nActions); throws RangeError on an invalid action. */
  step(action: number): StepResult;
}
