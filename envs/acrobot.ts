/**
 * Acrobot-v1 exactly as Gymnasium's classic_control/acrobot.py: "book" dynamics, one RK4 step
 * over [0, dt = 0.2], no torque noise, angles wrapped to [-pi, pi], velocities bounded,
 * reward -1 per step and 0 on the terminal step; the framework truncates after 500 steps. As
 * in Gymnasium, the reset state is float32 and the stepped state float64. A plug-in
 * (envs/api.ts).
 */
import { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec, EnvPluginStep } from './api.js';

export const ACROBOT_SPEC: EnvPluginSpec = {
  observationSize: 6,
  action: { type: 'discrete', n: 3 },
  maxEpisodeSteps: 500,
  rewardRange: [-1, 0],
};

const DT = 0.2;
const L1 = 1.0; // link lengths (only link 1's enters the dynamics)
const M1 = 1.0;
const M2 = 1.0;
const LC1 = 0.5;
const LC2 = 0.5;
const I1 = 1.0;
const I2 = 1.0;
const G = 9.8;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const AVAIL_TORQUE = [-1.0, 0.0, 1.0];

/** Gymnasium's `_dsdt` for the 4 state entries (the torque's derivative 0 is omitted). */
export function acrobotDsdt(s: Float64Array, a: number, out: Float64Array): void {
  const theta1 = s[0];
  const theta2 = s[1];
  const dtheta1 = s[2];
  const dtheta2 = s[3];
  const d1 = M1 * LC1 ** 2 + M2 * (L1 ** 2 + LC2 ** 2 + 2 * L1 * LC2 * Math.cos(theta2)) + I1 + I2;
  const d2 = M2 * (LC2 ** 2 + L1 * LC2 * Math.cos(theta2)) + I2;
  const phi2 = M2 * LC2 * G * Math.cos(theta1 + theta2 - Math.PI / 2.0);
  const phi1 =
    -M2 * L1 * LC2 * dtheta2 ** 2 * Math.sin(theta2) -
    2 * M2 * L1 * LC2 * dtheta2 * dtheta1 * Math.sin(theta2) +
    (M1 * LC1 + M2 * L1) * G * Math.cos(theta1 - Math.PI / 2) +
    phi2;
  const ddtheta2 = (a + (d2 / d1) * phi1 - M2 * L1 * LC2 * dtheta1 ** 2 * Math.sin(theta2) - phi2) / (M2 * LC2 ** 2 + I2 - d2 ** 2 / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
}

function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x -= diff;
  while (x < m) x += diff;
  return x;
}

function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}

/** Gymnasium Acrobot-v1. */
export class Acrobot implements EnvPluginInstance {
  /** [theta1, theta2, dtheta1, dtheta2]. */
  readonly state = new Float64Array(4);
  private readonly k = [new Float64Array(4), new Float64Array(4), new Float64Array(4), new Float64Array(4)];
  private readonly tmp = new Float64Array(4);

  /** Each entry a float32 uniform in [-0.1, 0.1) from `new Rng(seed)`. */
  reset(seed: number): Float32Array {
    const rng = new Rng(seed);
    for (let i = 0; i < 4; i++) this.state[i] = Math.fround(rng.uniformRange(-0.1, 0.1));
    return this.observe();
  }

  /** Set the state directly (tests, replays). */
  setState(s: ArrayLike<number>): void {
    for (let i = 0; i < 4; i++) this.state[i] = s[i];
  }

  step(action: number | ArrayLike<number>): EnvPluginStep {
    if (!(action === 0 || action === 1 || action === 2)) throw new RangeError(`Acrobot-v1 action must be 0, 1 or 2, got ${String(action)}`);
    const torque = AVAIL_TORQUE[action];
    const s = this.state;
    const [k1, k2, k3, k4] = this.k;
    const y = this.tmp;
    const dt2 = DT / 2.0;
    // Gymnasium's rk4(derivs, y0, [0, dt]): a single classical RK4 step.
    acrobotDsdt(s, torque, k1);
    for (let i = 0; i < 4; i++) y[i] = s[i] + dt2 * k1[i];
    acrobotDsdt(y, torque, k2);
    for (let i = 0; i < 4; i++) y[i] = s[i] + dt2 * k2[i];
    acrobotDsdt(y, torque, k3);
    for (let i = 0; i < 4; i++) y[i] = s[i] + DT * k3[i];
    acrobotDsdt(y, torque, k4);
    for (let i = 0; i < 4; i++) s[i] = s[i] + (DT / 6.0) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    s[0] = wrap(s[0], -Math.PI, Math.PI);
    s[1] = wrap(s[1], -Math.PI, Math.PI);
    s[2] = bound(s[2], -MAX_VEL_1, MAX_VEL_1);
    s[3] = bound(s[3], -MAX_VEL_2, MAX_VEL_2);
    const terminated = -Math.cos(s[0]) - Math.cos(s[1] + s[0]) > 1.0;
    return { observation: this.observe(), reward: terminated ? 0.0 : -1.0, terminated, truncated: false };
  }

  private observe(): Float32Array {
    const s = this.state;
    return Float32Array.of(Math.cos(s[0]), Math.sin(s[0]), Math.cos(s[1]), Math.sin(s[1]), s[2], s[3]);
  }
}

/** The Acrobot-v1 plug-in. */
export const ACROBOT: EnvPlugin = { spec: ACROBOT_SPEC, create: () => new Acrobot() };
