/**
 * The environment plug-in API. An environment module (TypeScript or plain JS, loaded with
 * `loadEnvModule(path)`) exports `envs`: names -> { spec, create }. The framework seeds every
 * `reset`, applies the `maxEpisodeSteps` time limit (as Gymnasium's TimeLimit: truncated once
 * the episode has taken that many steps), checks every observation and reward, and converts
 * observations to float32. The built-in environments use the same API.
 *
 * A minimal module:
 *
 *   export const envs = {
 *     'Coin-v0': {
 *       spec: { observationSize: 1, action: { type: 'discrete', n: 2 }, maxEpisodeSteps: 10 },
 *       create: () => ({ reset: (seed) => [seed % 2], step: (a) => ({ observation: [a], reward: a, terminated: false, truncated: false }) }),
 *     },
 *   };
 */

/** Discrete actions 0..n-1 (passed to `step` as a number). */
export interface DiscreteActionSpace {
  type: 'discrete';
  n: number;
}

/**
 * A box of real actions (passed to `step` as a Float32Array of low.length values, valid only
 * during the call), already clipped to [low, high]: the policy's actions are sampled unclipped
 * and the framework clips them at the env (clipBoxAction in envs/vector.ts, used by VectorEnv
 * and evaluation), as CleanRL's ClipAction wrapper. An env may clip again (Pendulum does).
 */
export interface BoxActionSpace {
  type: 'box';
  low: number[];
  high: number[];
}

export type ActionSpace = DiscreteActionSpace | BoxActionSpace;

/** Shapes of a plug-in environment. */
export interface EnvPluginSpec {
  /** Length of every observation. */
  observationSize: number;
  action: ActionSpace;
  /** Episode step limit, applied by the framework (truncation, not termination). */
  maxEpisodeSteps: number;
  /**
   * Optional bounds [low, high] of one step's reward, both finite, low <= high. The learner
   * refuses rollouts with a reward outside them, and episode returns outside length x them.
   * Without one the learner assumes |reward| <= 1e6 (DEFAULT_REWARD_BOUND in protocol/validate.ts).
   */
  rewardRange?: [number, number];
}

/** What `step` returns. `truncated` may be set by the env itself; the time limit is added on top. */
export interface EnvPluginStep {
  observation: ArrayLike<number>;
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

/** One running environment. `reset` is always called before the first `step` and after an episode ends. */
export interface EnvPluginInstance {
  /** Start an episode; all its randomness must come from `seed` (a u32). */
  reset(seed: number): ArrayLike<number>;
  step(action: number | ArrayLike<number>): EnvPluginStep;
}

/** One environment of a module. */
export interface EnvPlugin {
  spec: EnvPluginSpec;
  create(): EnvPluginInstance;
}

/** What an environment module exports. */
export interface EnvPluginModule {
  envs: Record<string, EnvPlugin>;
}

/** Identity helper that types an `envs` object in a TypeScript env module. */
export function defineEnvs<T extends Record<string, EnvPlugin>>(envs: T): T {
  return envs;
}
