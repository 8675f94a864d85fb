/**
 * Public API of the environments (package subpath `isreshape/envs`): the Env interface, the
 * registry by Gymnasium id, the two simulators, the lockstep vector wrapper, and the seeded
 * Rng an env's `reset` takes.
 */
export type { Env, StepResult } from './types.js';
export type { EnvSpec } from '../../model/spec.js';
export { ENV_SPECS, envSpecOf, makeEnv } from './registry.js';
export { CartPole, CARTPOLE_SPEC } from './cartpole.js';
export { Acrobot, ACROBOT_SPEC } from './acrobot.js';
export { VectorEnv, type VectorStepOut } from './vector.js';
export { Rng, type RngState } from '../../model/rng.js';
