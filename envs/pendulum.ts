/**
 * Pendulum-v1 exactly as Gymnasium's classic_control/pendulum.py run with numpy 2 on a float32
 * action: u = clip(a, -2, 2) stays float32, cost = angle_normalize(th)^2 + 0.1 thdot^2 +
 * 0.001 u^2 (the last term in float32), thdot += (15 sin th + 3 u) 0.05 with 3 u in float32,
 * clipped to +-8, th += 0.05 thdot; reward -cost, never terminates; the framework truncates
 * after 200 steps. State float64, observation float32 (cos th, sin th, thdot). Reset: th
 * uniform in [-pi, pi), thdot uniform in [-1, 1).
 */
import { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec, EnvPluginStep } from './api.js';

export const PENDULUM_SPEC: EnvPluginSpec = {
  observationSize: 3,
  action: { type: 'box', low: [-2], high: [2] },
  maxEpisodeSteps: 200,
  rewardRange: [-16.2736044, 0],
};

const f32 = Math.fround;
const MAX_SPEED = 8;
const MAX_TORQUE = 2.0;
const DT = 0.05;
const G = 10.0;
const M = 1.0;
const L = 1.0;
const F32_MILLI = f32(0.001);

/** numpy's float64 `x % y` (floored: the result takes the sign of y). */
function remainder(x: number, y: number): number {
  let m = x % y;
  if (m !== 0) {
    if (y < 0 !== m < 0) m += y;
  } else m = y < 0 ? -0 : 0;
  return m;
}

/** Gymnasium's angle_normalize: into [-pi, pi). */
export function angleNormalize(x: number): number {
  return remainder(x + Math.PI, 2 * Math.PI) - Math.PI;
}

/** Gymnasium Pendulum-v1 (g = 10). */
export class Pendulum implements EnvPluginInstance {
  /** [theta, theta_dot] in float64; theta 0 is upright. */
  readonly state = new Float64Array(2);

  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    this.state[0] = rng.uniformRange(-Math.PI, Math.PI);
    this.state[1] = rng.uniformRange(-1.0, 1.0);
    return this.observe();
  }

  /** Set the float64 state directly (tests, replays). */
  setState(s: ArrayLike<number>): void {
    this.state[0] = s[0];
    this.state[1] = s[1];
  }

  step(action: number | ArrayLike<number>): EnvPluginStep {
    if (typeof action === 'number' || action.length !== 1) throw new RangeError('Pendulum-v1 action must be an array of 1 number');
    const th = this.state[0];
    const thdot = this.state[1];
    const u = Math.min(Math.max(f32(action[0]), -MAX_TORQUE), MAX_TORQUE);
    const an = angleNormalize(th);
    const costs = an * an + 0.1 * (thdot * thdot) + f32(F32_MILLI * f32(u * u));
    let newthdot = thdot + (((3 * G) / (2 * L)) * Math.sin(th) + f32((3.0 / (M * L * L)) * u)) * DT;
    newthdot = Math.min(Math.max(newthdot, -MAX_SPEED), MAX_SPEED);
    const newth = th + newthdot * DT;
    this.state[0] = newth;
    this.state[1] = newthdot;
    return { observation: this.observe(), reward: -costs, terminated: false, truncated: false };
  }

  private observe(): Float32Array {
    const [th, thdot] = this.state;
    return Float32Array.of(Math.cos(th), Math.sin(th), thdot);
  }
}

/** The Pendulum-v1 plug-in. */
export const PENDULUM: EnvPlugin = { spec: PENDULUM_SPEC, create: () => new Pendulum() };
