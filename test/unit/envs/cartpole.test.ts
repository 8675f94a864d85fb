import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CartPole } from '../../../envs/cartpole.js';
import { makeManagedEnv } from '../../../envs/registry.js';
import { Rng } from '../../../model/rng.js';

interface Golden {
  state0: number[];
  actions: number[];
  steps: { obs: number[]; state: number[]; r: number; term: boolean }[];
}
const golden = JSON.parse(readFileSync(new URL('../../fixtures/gymnasium-classic.json', import.meta.url), 'utf8')) as {
  cartpole: Golden;
};

/** Gymnasium CartPole equations written out by hand (euler: positions use the old velocities). */
function handStep(s: number[], action: number): number[] {
  const [x, xd, th, thd] = s;
  const g = 9.8,
    mc = 1.0,
    mp = 0.1,
    l = 0.5,
    fm = 10.0,
    tau = 0.02;
  const f = action === 1 ? fm : -fm;
  const temp = (f + mp * l * thd * thd * Math.sin(th)) / (mc + mp);
  const thacc = (g * Math.sin(th) - Math.cos(th) * temp) / (l * (4 / 3 - (mp * Math.cos(th) ** 2) / (mc + mp)));
  const xacc = temp - (mp * l * thacc * Math.cos(th)) / (mc + mp);
  return [x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc];
}

describe('CartPole-v1', () => {
  it('matches the hand-written Gymnasium equations for several steps', () => {
    const env = new CartPole();
    let s = [0.02, 0.1, -0.03, -0.2];
    env.setState(s);
    for (const a of [1, 1, 0, 1, 0, 0]) {
      const r = env.step(a);
      s = handStep(s, a);
      for (let i = 0; i < 4; i++) {
        expect(env.state[i]).toBeCloseTo(s[i], 14);
        expect(r.observation[i]).toBe(Math.fround(s[i]));
      }
      expect(r.reward).toBe(1);
      expect(r.terminated).toBe(false);
    }
  });

  it('the first step from a known state has the values computed by hand', () => {
    // From s = (0, 0, 0, 0) with action 1: temp = 10 / 1.1, thetaacc = -temp / (0.5 (4/3 - 0.1/1.1)),
    // xacc = temp - 0.05 thetaacc / 1.1; positions stay 0 after one euler step.
    const env = new CartPole();
    env.setState([0, 0, 0, 0]);
    const r = env.step(1);
    const temp = 10 / 1.1;
    const thacc = -temp / (0.5 * (4 / 3 - 0.1 / 1.1));
    const xacc = temp - (0.05 * thacc) / 1.1;
    expect(Array.from(env.state)).toEqual([0, 0.02 * xacc, 0, 0.02 * thacc]);
    expect(r.observation[1]).toBeCloseTo(0.195122, 5);
    expect(r.observation[3]).toBeCloseTo(-0.292683, 5);
  });

  it('reproduces a Gymnasium 1.3.0 trajectory', () => {
    const g = golden.cartpole;
    const env = new CartPole();
    env.setState(g.state0);
    g.actions.forEach((a, t) => {
      const r = env.step(a);
      expect(Array.from(r.observation)).toEqual(g.steps[t].obs);
      for (let i = 0; i < 4; i++) expect(env.state[i]).toBeCloseTo(g.steps[t].state[i], 13);
      expect(r.terminated).toBe(g.steps[t].term);
      expect(r.reward).toBe(g.steps[t].r);
    });
  });

  it('terminates past the x and theta thresholds, with reward 1 on the terminating step', () => {
    const env = new CartPole();
    env.setState([2.399, 1.0, 0, 0]); // x + 0.02 * 1.0 > 2.4
    let r = env.step(1);
    expect(r.terminated).toBe(true);
    expect(r.reward).toBe(1);
    env.setState([2.39, 0.1, 0, 0]); // x + 0.002 = 2.392 < 2.4
    expect(env.step(1).terminated).toBe(false);
    const thr = (12 * 2 * Math.PI) / 360;
    env.setState([0, 0, thr - 0.001, 0.1]);
    r = env.step(0);
    expect(r.terminated).toBe(true);
    env.setState([0, 0, -thr + 0.001, -0.1]);
    expect(env.step(1).terminated).toBe(true);
    env.setState([0, 0, thr - 0.01, 0.1]);
    expect(env.step(0).terminated).toBe(false);
  });

  it('truncates at 500 steps with terminated = false (the framework time limit)', () => {
    const env = makeManagedEnv('CartPole-v1');
    env.reset(new Rng(1));
    const inner = env.instance as CartPole;
    for (let t = 1; t <= 500; t++) {
      // Keep the pole up: a balancing state is set each step, the framework's step counter is kept.
      inner.setState([0, 0, 0, 0]);
      const r = env.step(t % 2);
      expect(r.terminated).toBe(false);
      expect(r.truncated).toBe(t === 500);
    }
  });

  it('resets reproducibly from a seed, uniformly in [-0.05, 0.05)', () => {
    const a = new CartPole().reset(42);
    const b = new CartPole().reset(42);
    const c = new CartPole().reset(43);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const env = new CartPole();
    const rng = new Rng(7);
    let min = Infinity,
      max = -Infinity;
    for (let k = 0; k < 2000; k++) {
      for (const v of env.reset(rng.nextU32())) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    expect(min).toBeGreaterThanOrEqual(-0.05);
    expect(max).toBeLessThanOrEqual(0.05);
    expect(min).toBeLessThan(-0.049);
    expect(max).toBeGreaterThan(0.049);
  });

  it('rejects an invalid action', () => {
    const env = new CartPole();
    env.reset(0);
    expect(() => env.step(2)).toThrow(RangeError);
    const managed = makeManagedEnv('CartPole-v1');
    managed.reset(new Rng(0));
    expect(() => managed.step(2)).toThrow(/CartPole-v1' action must be an integer in \[0, 2\), got 2/);
    expect(() => managed.step(0.5)).toThrow(RangeError);
  });
});
