/**
 * MountainCarContinuous-v0 exactly as Gymnasium's classic_control/continuous_mountain_car.py
 * run with numpy 2 on a float32 action (a Box(float32) sample): force = clip(a, -1, 1),
 * velocity += 0.0015 force - 0.0025 cos(3 x) clipped to +-0.07, position clipped to
 * [-1.2, 0.6] with an inelastic left wall, reward -0.1 a^2 (+100 on reaching the goal),
 * termination at position >= 0.45 with velocity >= 0; the framework truncates after 999 steps.
 * Reset: position uniform in [-0.6, -0.4), velocity 0, kept in float64 until the first step.
 *
 * Gymnasium stores the stepped state as float32, and numpy 2's promotion rules (NEP 50) make
 * a float32 operand with a Python float compute in float32. So each value below tracks whether
 * numpy would hold it as float32, float64 or a Python float, and rounds with Math.fround where
 * numpy would: the trajectory matches Gymnasium's bit for bit up to the last ulp of cos.
 */
import { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec, EnvPluginStep } from './api.js';

export const MOUNTAIN_CAR_CONTINUOUS_SPEC: EnvPluginSpec = {
  observationSize: 2,
  action: { type: 'box', low: [-1], high: [1] },
  maxEpisodeSteps: 999,
  // the action is clipped to [-1, 1] before the env sees it: -0.1 a^2 >= -0.1, +100 at the goal
  rewardRange: [-0.1, 100],
};

const f32 = Math.fround;
const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.45;
const POWER = 0.0015;

/** numpy's kind of a scalar: np.float32, np.float64 or a Python float (weak: takes the other operand's type). */
type Kind = 'f32' | 'f64' | 'py';

/** a + b with numpy 2 promotion; `a` is a numpy scalar (f32 or f64) or a Python float. */
function add(a: number, ka: Kind, b: number, kb: Kind): [number, Kind] {
  if (ka === 'f64' || kb === 'f64') return [a + b, 'f64'];
  if (ka === 'f32' || kb === 'f32') return [f32(f32(a) + f32(b)), 'f32'];
  return [a + b, 'py'];
}

/** a > b, a < b, a === b as numpy compares them: a Python float meets a float32 as a float32. */
const cmpView = (b: number, ka: Kind): number => (ka === 'f32' ? f32(b) : b);

/** Gymnasium MountainCarContinuous-v0. */
export class MountainCarContinuous implements EnvPluginInstance {
  /** [position, velocity]: float64 after reset or setState, float32 values after a step. */
  readonly state = new Float64Array(2);
  /** Whether Gymnasium would hold `state` as a float32 array (after a step). */
  stateIsFloat32 = false;

  reset(seed: number): Float32Array {
    this.state[0] = new Rng(seed).uniformRange(-0.6, -0.4);
    this.state[1] = 0;
    this.stateIsFloat32 = false;
    return Float32Array.from(this.state);
  }

  /** Set the state directly (tests, replays); `float32` as after a step, else float64 as after reset. */
  setState(s: ArrayLike<number>, float32 = false): void {
    this.state[0] = float32 ? f32(s[0]) : s[0];
    this.state[1] = float32 ? f32(s[1]) : s[1];
    this.stateIsFloat32 = float32;
  }

  step(action: number | ArrayLike<number>): EnvPluginStep {
    if (typeof action === 'number' || action.length !== 1)
      throw new RangeError('MountainCarContinuous-v0 action must be an array of 1 number');
    const a = f32(action[0]);
    const sk: Kind = this.stateIsFloat32 ? 'f32' : 'f64';
    let position = this.state[0];
    let pk: Kind = sk;
    let velocity = this.state[1];
    let vk: Kind = sk;
    // force = min(max(action[0], -1.0), 1.0): Python's min/max keep action[0]'s float32 unless a bound wins.
    let force = a;
    let fk: Kind = 'f32';
    if (-1.0 > a) [force, fk] = [-1.0, 'py'];
    if (1.0 < force) [force, fk] = [1.0, 'py'];
    // velocity += force * power - 0.0025 * math.cos(3 * position)
    const push = fk === 'f32' ? f32(force * f32(POWER)) : force * POWER;
    const cosArg = pk === 'f32' ? f32(3 * position) : 3 * position;
    const [inc, ik] = add(push, fk, -(0.0025 * Math.cos(cosArg)), 'py');
    [velocity, vk] = add(velocity, vk, inc, ik);
    if (velocity > cmpView(MAX_SPEED, vk)) [velocity, vk] = [MAX_SPEED, 'py'];
    if (velocity < cmpView(-MAX_SPEED, vk)) [velocity, vk] = [-MAX_SPEED, 'py'];
    [position, pk] = add(position, pk, velocity, vk);
    if (position > cmpView(MAX_POSITION, pk)) [position, pk] = [MAX_POSITION, 'py'];
    if (position < cmpView(MIN_POSITION, pk)) [position, pk] = [MIN_POSITION, 'py'];
    if (position === cmpView(MIN_POSITION, pk) && velocity < 0) velocity = 0;
    const terminated = position >= cmpView(GOAL_POSITION, pk) && velocity >= 0;
    const reward = (terminated ? 100.0 : 0) - a * a * 0.1;
    this.state[0] = f32(position);
    this.state[1] = f32(velocity);
    this.stateIsFloat32 = true;
    return { observation: Float32Array.from(this.state), reward, terminated, truncated: false };
  }
}

/** The MountainCarContinuous-v0 plug-in. */
export const MOUNTAIN_CAR_CONTINUOUS: EnvPlugin = { spec: MOUNTAIN_CAR_CONTINUOUS_SPEC, create: () => new MountainCarContinuous() };
