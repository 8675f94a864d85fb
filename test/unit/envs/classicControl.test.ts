import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MountainCar } from '../../../envs/mountainCar.js';
import { MountainCarContinuous } from '../../../envs/mountainCarContinuous.js';
import { angleNormalize, Pendulum } from '../../../envs/pendulum.js';
import { envPluginSpecOf, envSpecOf, makeEnv, makeManagedEnv } from '../../../envs/registry.js';
import { Rng } from '../../../model/rng.js';

interface Step {
  obs: number[];
  state: number[];
  r: number;
  term: boolean;
  trunc: boolean;
}
interface Traj {
  state0: number[];
  actions: number[];
  steps: Step[];
}
const golden = JSON.parse(readFileSync(new URL('../../fixtures/gymnasium-control.json', import.meta.url), 'utf8')) as Record<string, Traj>;

type Settable = { setState(s: ArrayLike<number>): void; readonly state: Float64Array };

/**
 * Replay a fixture trajectory through the framework (time limit included): reset, then set
 * Gymnasium's start state on the plug-in instance and step the recorded actions.
 */
function replay(envId: string, key: string, box: boolean): void {
  const g = golden[key];
  expect(g.steps.length).toBeGreaterThan(5);
  const env = makeManagedEnv(envId);
  env.reset(new Rng(0));
  const inner = env.instance as unknown as Settable;
  inner.setState(g.state0);
  g.actions.forEach((a, t) => {
    const r = env.step(box ? [a] : a);
    const s = g.steps[t];
    for (let i = 0; i < s.obs.length; i++) expect(r.obs[i], `${key} step ${t} obs[${i}]`).toBe(s.obs[i]); // bit-exact float32
    for (let i = 0; i < s.state.length; i++) expect(inner.state[i], `${key} step ${t} state[${i}]`).toBeCloseTo(s.state[i], 15);
    expect(r.reward, `${key} step ${t} reward`).toBeCloseTo(s.r, 14);
    expect(r.terminated, `${key} step ${t} terminated`).toBe(s.term);
    expect(r.truncated, `${key} step ${t} truncated`).toBe(s.trunc);
  });
  const last = g.steps[g.steps.length - 1];
  if (last.term || last.trunc) expect(() => env.step(box ? [0] : 0)).toThrow(/after the episode ended; call reset/);
}

/** Min and max of each observation entry over `n` seeded resets. */
function resetRanges(envId: string, n: number): { min: number[]; max: number[] } {
  const env = makeManagedEnv(envId);
  const d = env.spec.observationSize;
  const min = new Array<number>(d).fill(Infinity);
  const max = new Array<number>(d).fill(-Infinity);
  const rng = new Rng(11);
  for (let k = 0; k < n; k++) {
    const o = env.reset(rng);
    for (let i = 0; i < d; i++) {
      min[i] = Math.min(min[i], o[i]);
      max[i] = Math.max(max[i], o[i]);
    }
  }
  return { min, max };
}

describe('MountainCar-v0', () => {
  it('is registered as a discrete env: 2 observations, 3 actions, 200 steps', () => {
    expect(envSpecOf('MountainCar-v0')).toEqual({
      id: 'MountainCar-v0',
      obsDim: 2,
      nActions: 3,
      maxEpisodeSteps: 200,
      rewardRange: [-1, 0],
    });
    expect(makeEnv('MountainCar-v0').spec.nActions).toBe(3);
  });

  it('reproduces Gymnasium trajectories: reaching the goal (termination), hitting the left wall, and truncation at 200', () => {
    replay('MountainCar-v0', 'mountaincar_goal', false);
    expect(golden.mountaincar_goal.steps.at(-1)?.term).toBe(true);
    replay('MountainCar-v0', 'mountaincar_wall', false);
    expect(golden.mountaincar_wall.steps.some((s) => s.state[0] === -1.2 && s.state[1] === 0)).toBe(true);
    replay('MountainCar-v0', 'mountaincar_trunc', false);
    expect(golden.mountaincar_trunc.steps.length).toBe(200);
  });

  it('one step from a known state has the values computed by hand', () => {
    const env = new MountainCar();
    env.setState([-0.5, 0.01]);
    const r = env.step(2);
    const v = 0.01 + (0.001 - 0.0025 * Math.cos(-1.5));
    expect(Array.from(env.state)).toEqual([-0.5 + v, v]);
    expect(r.reward).toBe(-1);
    env.setState([0.49, 0.02]);
    expect(env.step(1).terminated).toBe(true);
    env.setState([0.55, -0.07]); // past the goal but moving left: not terminal
    expect(env.step(0).terminated).toBe(false);
    expect(() => env.step(3)).toThrow(RangeError);
  });

  it('resets reproducibly: position uniform in [-0.6, -0.4), velocity 0, float32 observation', () => {
    expect(new MountainCar().reset(5)).toEqual(new MountainCar().reset(5));
    const env = new MountainCar();
    const o = env.reset(5);
    expect(o[0]).toBe(Math.fround(env.state[0]));
    const { min, max } = resetRanges('MountainCar-v0', 2000);
    expect(min[0]).toBeGreaterThanOrEqual(Math.fround(-0.6));
    expect(max[0]).toBeLessThanOrEqual(Math.fround(-0.4));
    expect(min[0]).toBeLessThan(-0.599);
    expect(max[0]).toBeGreaterThan(-0.401);
    expect([min[1], max[1]]).toEqual([0, 0]);
  });
});

describe('MountainCarContinuous-v0', () => {
  it('is registered as a box env [-1, 1] with 999 steps (a box EnvSpec); the discrete Env interface refuses it clearly', () => {
    expect(envPluginSpecOf('MountainCarContinuous-v0')).toEqual({
      observationSize: 2,
      action: { type: 'box', low: [-1], high: [1] },
      maxEpisodeSteps: 999,
      rewardRange: [-0.1, 100],
    });
    expect(envSpecOf('MountainCarContinuous-v0')).toEqual({
      id: 'MountainCarContinuous-v0',
      obsDim: 2,
      nActions: 1,
      maxEpisodeSteps: 999,
      actionKind: 'box',
      rewardRange: [-0.1, 100],
    });
    expect(() => makeEnv('MountainCarContinuous-v0')).toThrow(
      "env 'MountainCarContinuous-v0' has continuous actions: the discrete Env interface cannot step it; use makeManagedEnv (the Gaussian policy's envs)",
    );
  });

  it('reproduces Gymnasium trajectories: reaching the goal (+100), and clipped actions against the left wall', () => {
    replay('MountainCarContinuous-v0', 'mcc_goal', true);
    const last = golden.mcc_goal.steps.at(-1) as Step;
    expect(last.term && last.r > 99).toBe(true);
    replay('MountainCarContinuous-v0', 'mcc_mixed', true);
    expect(golden.mcc_mixed.steps.some((s) => s.state[1] === 0)).toBe(true);
  });

  it('stores the stepped state as float32 and keeps float32 arithmetic where numpy 2 does', () => {
    const env = new MountainCarContinuous();
    env.setState([-0.5, 0]);
    env.step([0.3]);
    for (const v of env.state) expect(Math.fround(v)).toBe(v);
    expect(env.stateIsFloat32).toBe(true);
    // From a float32 state, force * power - 0.0025 cos(3x) is computed in float32.
    const x = Math.fround(-0.5);
    const a = Math.fround(0.3);
    const inc = Math.fround(Math.fround(a * Math.fround(0.0015)) - Math.fround(0.0025 * Math.cos(Math.fround(3 * x))));
    env.setState([x, 0], true);
    const r = env.step([0.3]);
    expect(env.state[1]).toBe(Math.fround(0 + inc));
    expect(env.state[0]).toBe(Math.fround(x + env.state[1]));
    expect(r.reward).toBe(-(a * a) * 0.1);
  });

  it('resets reproducibly: position uniform in [-0.6, -0.4), velocity 0', () => {
    expect(new MountainCarContinuous().reset(8)).toEqual(new MountainCarContinuous().reset(8));
    const { min, max } = resetRanges('MountainCarContinuous-v0', 2000);
    expect(min[0]).toBeGreaterThanOrEqual(Math.fround(-0.6));
    expect(max[0]).toBeLessThanOrEqual(Math.fround(-0.4));
    expect(min[0]).toBeLessThan(-0.599);
    expect(max[0]).toBeGreaterThan(-0.401);
    expect([min[1], max[1]]).toEqual([0, 0]);
  });

  it('the framework checks box actions: length, finiteness, and hands the env float32', () => {
    const env = makeManagedEnv('MountainCarContinuous-v0');
    env.reset(new Rng(1));
    expect(() => env.step(0.5)).toThrow("env 'MountainCarContinuous-v0' action must be an array of 1 numbers, got the number 0.5");
    expect(() => env.step([0.5, 0.5])).toThrow(/must be an array of 1 numbers, got 2 values/);
    expect(() => env.step([NaN])).toThrow(/action\[0\] must be a finite float32, got NaN/);
    expect(() => env.step([1e39])).toThrow(/action\[0\] must be a finite float32/);
    expect(env.elapsedSteps).toBe(0);
    const r = env.step(new Float64Array([0.1]));
    expect(r.reward).toBe(-(Math.fround(0.1) ** 2) * 0.1);
  });
});

describe('Pendulum-v1', () => {
  it('is registered as a box env [-2, 2] with 200 steps', () => {
    expect(envPluginSpecOf('Pendulum-v1')).toEqual({
      observationSize: 3,
      action: { type: 'box', low: [-2], high: [2] },
      maxEpisodeSteps: 200,
      rewardRange: [-16.2736044, 0],
    });
    expect(envSpecOf('Pendulum-v1')).toEqual({
      id: 'Pendulum-v1',
      obsDim: 3,
      nActions: 1,
      maxEpisodeSteps: 200,
      actionKind: 'box',
      rewardRange: [-16.2736044, 0],
    });
  });

  it('reproduces Gymnasium trajectories: 200 steps to truncation with clipped torques, and a speed clipped at 8', () => {
    replay('Pendulum-v1', 'pendulum', true);
    expect(golden.pendulum.steps.length).toBe(200);
    replay('Pendulum-v1', 'pendulum_fast', true);
    expect(golden.pendulum_fast.steps[0].state[1]).toBe(8);
  });

  it('one step from a known state has the values computed by hand', () => {
    const env = new Pendulum();
    env.setState([0.5, -1.5]);
    const r = env.step([1.5]);
    const thdot = -1.5 + (15 * Math.sin(0.5) + 3 * 1.5) * 0.05;
    expect(env.state[1]).toBeCloseTo(thdot, 14);
    expect(env.state[0]).toBeCloseTo(0.5 + thdot * 0.05, 14);
    expect(r.reward).toBeCloseTo(-(0.25 + 0.1 * 2.25 + 0.001 * 2.25), 7);
    expect(Array.from(r.observation)).toEqual([
      Math.fround(Math.cos(env.state[0])),
      Math.fround(Math.sin(env.state[0])),
      Math.fround(env.state[1]),
    ]);
    expect(r.terminated).toBe(false);
  });

  it('angle_normalize maps into [-pi, pi) as numpy does', () => {
    expect(angleNormalize(0)).toBe(0);
    expect(angleNormalize(Math.PI)).toBeCloseTo(-Math.PI, 15);
    expect(angleNormalize(-Math.PI)).toBeCloseTo(-Math.PI, 15);
    expect(angleNormalize((3 * Math.PI) / 2)).toBeCloseTo(-Math.PI / 2, 14);
    expect(angleNormalize(-7)).toBeCloseTo(-7 + 2 * Math.PI, 14);
    expect(angleNormalize(20)).toBeCloseTo(20 - 6 * Math.PI, 13);
  });

  it('resets reproducibly: theta uniform in [-pi, pi), theta_dot in [-1, 1)', () => {
    expect(new Pendulum().reset(3)).toEqual(new Pendulum().reset(3));
    expect(new Pendulum().reset(3)).not.toEqual(new Pendulum().reset(4));
    const env = makeManagedEnv('Pendulum-v1');
    const inner = env.instance as Pendulum;
    const rng = new Rng(2);
    let thMin = Infinity,
      thMax = -Infinity,
      wMin = Infinity,
      wMax = -Infinity;
    for (let k = 0; k < 2000; k++) {
      const o = env.reset(rng);
      const [th, w] = inner.state;
      expect(o[2]).toBe(Math.fround(w));
      thMin = Math.min(thMin, th);
      thMax = Math.max(thMax, th);
      wMin = Math.min(wMin, w);
      wMax = Math.max(wMax, w);
    }
    expect(thMin).toBeGreaterThanOrEqual(-Math.PI);
    expect(thMax).toBeLessThan(Math.PI);
    expect(wMin).toBeGreaterThanOrEqual(-1);
    expect(wMax).toBeLessThan(1);
    expect(thMin).toBeLessThan(-3.1);
    expect(thMax).toBeGreaterThan(3.1);
    expect(wMin).toBeLessThan(-0.99);
    expect(wMax).toBeGreaterThan(0.99);
  });
});
