/**
 * What an actor and the learner must agree on before any rollout crosses the wire: the
 * environment's shapes and the network's architecture. The model hash travels in every
 * hello and parameter message so that a mismatch is rejected, not silently trained on.
 */

/** Shapes of an environment, as announced by actors and validated by the learner. */
export interface EnvSpec {
  /** Gymnasium-style id, e.g. 'CartPole-v1'. */
  id: string;
  /** Length of the float32 observation vector. */
  obsDim: number;
  /** Number of discrete actions. */
  nActions: number;
  /** Episode step limit (truncation, not termination). */
  maxEpisodeSteps: number;
}

/** Architecture of the separate policy and value MLPs (tanh hidden layers). */
export interface ModelSpec {
  obsDim: number;
  nActions: number;
  /** Hidden layer widths, shared by the policy and the value network, e.g. [64, 64]. */
  hidden: number[];
}
