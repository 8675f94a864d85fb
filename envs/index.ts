/**
 * Public API of the environments (package subpath `isreshape/envs`): the plug-in API a user's
 * environment module implements (`envs: { NAME: { spec, create } }`, see envs/README.md),
 * its checks, the registry (built-ins plus modules loaded with `loadEnvModule`), the discrete
 * `Env` the actor steps, the lockstep vector wrapper, and the seeded Rng.
 */
export type {
  ActionSpace,
  BoxActionSpace,
  DiscreteActionSpace,
  EnvPlugin,
  EnvPluginInstance,
  EnvPluginModule,
  EnvPluginSpec,
  EnvPluginStep,
} from './api.js';
export { defineEnvs } from './api.js';
export { EnvModuleError, EnvRuntimeError, specKey, validateSpec } from './check.js';
export type { Env, StepResult } from './types.js';
export type { EnvSpec } from '../model/spec.js';
export {
  EnvRegistry,
  envRegistry,
  envIds,
  envPluginSpecOf,
  envSpecOf,
  loadEnvModule,
  makeEnv,
  makeManagedEnv,
  modelSpecFor,
} from './registry.js';
export { ManagedEnv } from './managed.js';
export { VectorEnv, type VectorStepOut } from './vector.js';
export { Rng, type RngState } from '../model/rng.js';
export { envs as builtinEnvs } from './builtin.js';
