/**
 * MountainCar-v0 exactly as Gymnasium's classic_control/mountain_car.py: state (position,
 * velocity) in float64, observations float32, velocity += (a - 1) * 0.001 - 0.0025 cos(3 x)
 * clipped to +-0.07, position clipped to [-1.2, 0.6] with an inelastic left wall, reward -1
 * per step, termination at position >= 0.5 with velocity >= 0; the framework truncates after
 * 200 steps. Reset: position uniform in [-0.6, -0.4), velocity 0. A plug-in (api.ts).
 */
import { Rng } from '../model/rng.js';
import type { EnvPlugin, EnvPluginInstance, EnvPluginSpec, EnvPluginStep } from './api.js';

export const MOUNTAIN_CAR_SPEC: EnvPluginSpec = {
  observationSize: 2,
  action: { type: 'discrete', n: 3 },
  maxEpisodeSteps: 200,
  rewardRange: [-1, 0],
};

const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.5;
const FORCE = 0.001;
const GRAVITY = 0.0025;

/** Gymnasium MountainCar-v0. */
export class MountainCar implements EnvPluginInstance {
  /** [position, velocity] in float64. */
  readonly state = new Float64Array(2);

  reset(seed: number): Float32Array {
    this.state[0] = new Rng(seed).uniformRange(-0.6, -0.4);
    this.state[1] = 0;
    return Float32Array.from(this.state);
  }

  /** Set the float64 state directly (tests, replays). */
  setState(s: ArrayLike<number>): void {
    this.state[0] = s[0];
    this.state[1] = s[1];
  }

  step(action: number | ArrayLike<number>): EnvPluginStep {
    if (!(action === 0 || action === 1 || action === 2))
      throw new RangeError(`MountainCar-v0 action must be 0, 1 or 2, got ${String(action)}`);
    let position = this.state[0];
    let velocity = this.state[1];
    velocity += (action - 1) * FORCE + Math.cos(3 * position) * -GRAVITY;
    velocity = Math.min(Math.max(velocity, -MAX_SPEED), MAX_SPEED);
    position += velocity;
    position = Math.min(Math.max(position, MIN_POSITION), MAX_POSITION);
    if (position === MIN_POSITION && velocity < 0) velocity = 0;
    const terminated = position >= GOAL_POSITION && velocity >= 0;
    this.state[0] = position;
    this.state[1] = velocity;
    return { observation: Float32Array.from(this.state), reward: -1.0, terminated, truncated: false };
  }
}

/** The MountainCar-v0 plug-in. */
export const MOUNTAIN_CAR: EnvPlugin = { spec: MOUNTAIN_CAR_SPEC, create: () => new MountainCar() };
