/**
 * Shapes of the environments the system knows, by id: what an actor announces in its hello and
 * what the learner validates rollouts against. The dynamics live in actor/envs/.
 */
import type { EnvSpec } from '../model/spec.js';

export const ENV_SHAPES: Readonly<Record<string, EnvSpec>> = Object.freeze({
  'CartPole-v1': Object.freeze({ id: 'CartPole-v1', obsDim: 4, nActions: 2, maxEpisodeSteps: 500 }),
  'Acrobot-v1': Object.freeze({ id: 'Acrobot-v1', obsDim: 6, nActions: 3, maxEpisodeSteps: 500 }),
});

/** The spec of `id`, or a RangeError listing the known ids. */
export function envShape(id: string): EnvSpec {
  const s = ENV_SHAPES[id];
  if (!s) throw new RangeError(`unknown environment '${id}'; known: ${Object.keys(ENV_SHAPES).join(', ')}`);
  return s;
}
