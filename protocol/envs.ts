/**
 * Shapes of the environments the system knows, by id: what an actor announces in its hello and
 * what the learner validates rollouts against. They come from the env registry
 * (actor/envs/registry.ts: the built-ins plus any loaded env module), so adding an env needs
 * no edit here.
 */
import type { EnvSpec } from '../model/spec.js';
import { envIds, envSpecOf } from '../actor/envs/registry.js';

/** Every known env id (built-ins first, then loaded modules'). */
export function knownEnvIds(): string[] {
  return envIds();
}

/** The discrete spec of `id`; a RangeError listing the known ids, or saying a box env needs the Gaussian policy. */
export function envShape(id: string): EnvSpec {
  return envSpecOf(id);
}
