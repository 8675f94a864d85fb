/** The known environments, by Gymnasium id. */
import type { EnvSpec } from '../../model/spec.js';
import { Acrobot, ACROBOT_SPEC } from './acrobot.js';
import { CartPole, CARTPOLE_SPEC } from './cartpole.js';
import type { Env } from './types.js';

const FACTORIES: Readonly<Record<string, () => Env>> = Object.freeze({
  'CartPole-v1': () => new CartPole(),
  'Acrobot-v1': () => new Acrobot(),
});

/** Specs of every registered env, keyed by id. */
export const ENV_SPECS: Readonly<Record<string, EnvSpec>> = Object.freeze({
  'CartPole-v1': CARTPOLE_SPEC,
  'Acrobot-v1': ACROBOT_SPEC,
});

/** The spec of `id`; throws a RangeError listing the known ids when it is unknown. */
export function envSpecOf(id: string): EnvSpec {
  const spec = Object.hasOwn(ENV_SPECS, id) ? ENV_SPECS[id] : undefined;
  if (spec === undefined) throw unknownEnv(id);
  return spec;
}

/** A fresh env for `id` (call reset before stepping); throws a RangeError listing the known ids. */
export function makeEnv(id: string): Env {
  const f = Object.hasOwn(FACTORIES, id) ? FACTORIES[id] : undefined;
  if (f === undefined) throw unknownEnv(id);
  return f();
}

function unknownEnv(id: string): RangeError {
  return new RangeError(`unknown env id '${id}'; known ids: ${Object.keys(ENV_SPECS).join(', ')} (set --env to one of them)`);
}
