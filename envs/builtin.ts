/** The built-in environments: an env module like any user's (envs/api.ts). */
import { ACROBOT } from './acrobot.js';
import type { EnvPlugin } from './api.js';
import { CARTPOLE } from './cartpole.js';
import { MOUNTAIN_CAR } from './mountainCar.js';
import { MOUNTAIN_CAR_CONTINUOUS } from './mountainCarContinuous.js';
import { PENDULUM } from './pendulum.js';
import { SEQ_ENVS } from './seq.js';

export const envs: Record<string, EnvPlugin> = {
  'CartPole-v1': CARTPOLE,
  'Acrobot-v1': ACROBOT,
  'MountainCar-v0': MOUNTAIN_CAR,
  'MountainCarContinuous-v0': MOUNTAIN_CAR_CONTINUOUS,
  'Pendulum-v1': PENDULUM,
  ...SEQ_ENVS,
};
