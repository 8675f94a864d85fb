/**
 * CartPole-v1 exactly as Gymnasium's classic_control/cartpole.py (euler integrator): state
 * kept in float64, observations returned as float32, reward 1 on every step including the
 * terminating one; the framework truncates after 500 steps. A plug-in (envs/api.ts).
 */
import { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec, EnvPluginStep } from './api.js';

export const CARTPOLE_SPEC: EnvPluginSpec = {
  observationSize: 4,
  action: { type: 'discrete', n: 2 },
  maxEpisodeSteps: 500,
  rewardRange: [0, 1],
};

const GRAVITY = 9.8;
const MASSCART = 1.0;
const MASSPOLE = 0.1;
const TOTAL_MASS = MASSPOLE + MASSCART;
const LENGTH = 0.5; // half the pole's length
const POLEMASS_LENGTH = MASSPOLE * LENGTH;
const FORCE_MAG = 10.0;
const TAU = 0.02;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
const X_THRESHOLD = 2.4;

/** Gymnasium CartPole-v1. */
export class CartPole implements EnvPluginInstance {
  /** [x, x_dot, theta, theta_dot] in float64. */
  readonly state = new Float64Array(4);

  /** Each entry uniform in [-0.05, 0.05) from `new Rng(seed)`. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    for (let i = 0; i < 4; i++) this.state[i] = rng.uniformRange(-0.05, 0.05);
    return Float32Array.from(this.state);
  }

  /** Set the float64 state directly (tests, replays). */
  setState(s: ArrayLike<number>): void {
    for (let i = 0; i < 4; i++) this.state[i] = s[i];
  }

  step(action: number | ArrayLike<number>): EnvPluginStep {
    if (action !== 0 && action !== 1) throw new RangeError(`CartPole-v1 action must be 0 or 1, got ${String(action)}`);
    const s = this.state;
    const x = s[0];
    const xDot = s[1];
    const theta = s[2];
    const thetaDot = s[3];
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const costheta = Math.cos(theta);
    const sintheta = Math.sin(theta);
    const temp = (force + POLEMASS_LENGTH * thetaDot * thetaDot * sintheta) / TOTAL_MASS;
    const thetaacc = (GRAVITY * sintheta - costheta * temp) / (LENGTH * (4.0 / 3.0 - (MASSPOLE * costheta * costheta) / TOTAL_MASS));
    const xacc = temp - (POLEMASS_LENGTH * thetaacc * costheta) / TOTAL_MASS;
    // Euler: positions advance with the old velocities.
    s[0] = x + TAU * xDot;
    s[1] = xDot + TAU * xacc;
    s[2] = theta + TAU * thetaDot;
    s[3] = thetaDot + TAU * thetaacc;
    const terminated = s[0] < -X_THRESHOLD || s[0] > X_THRESHOLD || s[2] < -THETA_THRESHOLD || s[2] > THETA_THRESHOLD;
    return { observation: Float32Array.from(s), reward: 1.0, terminated, truncated: false };
  }
}

/** The CartPole-v1 plug-in. */
export const CARTPOLE: EnvPlugin = { spec: CARTPOLE_SPEC, create: () => new CartPole() };
