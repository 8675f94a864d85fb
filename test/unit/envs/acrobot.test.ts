import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Acrobot } from '../../../envs/acrobot.js';
import { makeManagedEnv } from '../../../envs/registry.js';
import { Rng } from '../../../model/rng.js';

interface Golden {
  state0: number[];
  actions: number[];
  steps: { obs: number[]; state: number[]; r: number; term: boolean }[];
}
const golden = JSON.parse(readFileSync(new URL('../../fixtures/gymnasium-classic.json', import.meta.url), 'utf8')) as {
  acrobot: Golden;
};

/** The book dynamics of Sutton & Barto's acrobot, written out independently (m = l = I = 1, lc = 0.5). */
function deriv(y: number[], tau: number): number[] {
  const [t1, t2, w1, w2] = y;
  const m1 = 1,
    m2 = 1,
    l1 = 1,
    lc1 = 0.5,
    lc2 = 0.5,
    i1 = 1,
    i2 = 1,
    g = 9.8;
  const d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * Math.cos(t2)) + i1 + i2;
  const d2 = m2 * (lc2 * lc2 + l1 * lc2 * Math.cos(t2)) + i2;
  const phi2 = m2 * lc2 * g * Math.cos(t1 + t2 - Math.PI / 2);
  const phi1 =
    -m2 * l1 * lc2 * w2 * w2 * Math.sin(t2) -
    2 * m2 * l1 * lc2 * w2 * w1 * Math.sin(t2) +
    (m1 * lc1 + m2 * l1) * g * Math.cos(t1 - Math.PI / 2) +
    phi2;
  const a2 = (tau + (d2 / d1) * phi1 - m2 * l1 * lc2 * w1 * w1 * Math.sin(t2) - phi2) / (m2 * lc2 * lc2 + i2 - (d2 * d2) / d1);
  const a1 = -(d2 * a2 + phi1) / d1;
  return [w1, w2, a1, a2];
}

function rk4(y: number[], tau: number, h: number): number[] {
  const add = (u: number[], v: number[], c: number) => u.map((x, i) => x + c * v[i]);
  const k1 = deriv(y, tau);
  const k2 = deriv(add(y, k1, h / 2), tau);
  const k3 = deriv(add(y, k2, h / 2), tau);
  const k4 = deriv(add(y, k3, h), tau);
  return y.map((x, i) => x + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
}

describe('Acrobot-v1', () => {
  it('one step equals an independent RK4 of the book dynamics over dt = 0.2', () => {
    const s = [0.3, -0.4, 1.2, -2.0];
    for (const [action, tau] of [
      [0, -1],
      [1, 0],
      [2, 1],
    ]) {
      const env = new Acrobot();
      env.setState(s);
      const r = env.step(action);
      const e = rk4(s, tau, 0.2);
      for (let i = 0; i < 4; i++) expect(env.state[i]).toBeCloseTo(e[i], 12);
      const obs = [Math.cos(e[0]), Math.sin(e[0]), Math.cos(e[1]), Math.sin(e[1]), e[2], e[3]];
      for (let i = 0; i < 6; i++) expect(r.observation[i]).toBeCloseTo(obs[i], 6);
      expect(r.reward).toBe(-1);
    }
  });

  it('reproduces a Gymnasium 1.3.0 trajectory', () => {
    const g = golden.acrobot;
    const env = new Acrobot();
    env.setState(g.state0);
    g.actions.forEach((a, t) => {
      const r = env.step(a);
      for (let i = 0; i < 6; i++) expect(r.observation[i]).toBeCloseTo(g.steps[t].obs[i], 6);
      for (let i = 0; i < 4; i++) expect(env.state[i]).toBeCloseTo(g.steps[t].state[i], 12);
      expect(r.reward).toBe(g.steps[t].r);
      expect(r.terminated).toBe(g.steps[t].term);
    });
  });

  it('wraps angles into [-pi, pi] and bounds velocities', () => {
    const env = new Acrobot();
    env.setState([Math.PI - 0.01, -Math.PI + 0.01, 12.5, -28.2]);
    env.step(2);
    expect(Math.abs(env.state[0])).toBeLessThanOrEqual(Math.PI);
    expect(Math.abs(env.state[1])).toBeLessThanOrEqual(Math.PI);
    expect(Math.abs(env.state[2])).toBeLessThanOrEqual(4 * Math.PI);
    expect(Math.abs(env.state[3])).toBeLessThanOrEqual(9 * Math.PI);
    env.setState([0, 0, 100, -100]);
    env.step(1);
    expect(Math.abs(env.state[2])).toBe(4 * Math.PI);
    expect(Math.abs(env.state[3])).toBe(9 * Math.PI);
  });

  it('terminates with reward 0 when -cos(t1) - cos(t1 + t2) > 1', () => {
    const env = new Acrobot();
    // Hanging straight up with no velocity: the step ends near (pi, 0), height 2 > 1.
    env.setState([Math.PI - 0.001, 0, 0, 0]);
    const r = env.step(1);
    expect(-Math.cos(env.state[0]) - Math.cos(env.state[0] + env.state[1])).toBeGreaterThan(1);
    expect(r.terminated).toBe(true);
    expect(r.reward).toBe(0);
    // Hanging down: height -2, not terminal.
    env.setState([0, 0, 0, 0]);
    const r2 = env.step(1);
    expect(r2.terminated).toBe(false);
    expect(r2.reward).toBe(-1);
  });

  it('truncates at 500 steps with terminated = false and reward -1 (the framework time limit)', () => {
    const env = makeManagedEnv('Acrobot-v1');
    env.reset(new Rng(3));
    const inner = env.instance as Acrobot;
    let last = env.step(1);
    for (let t = 2; t <= 500; t++) {
      expect(last.truncated).toBe(false);
      inner.setState([0, 0, 0, 0]);
      last = env.step(1);
    }
    expect(last.truncated).toBe(true);
    expect(last.terminated).toBe(false);
    expect(last.reward).toBe(-1);
  });

  it('resets reproducibly to float32 values in [-0.1, 0.1)', () => {
    const a = new Acrobot();
    const b = new Acrobot();
    expect(a.reset(9)).toEqual(b.reset(9));
    for (let i = 0; i < 4; i++) {
      expect(Math.fround(a.state[i])).toBe(a.state[i]);
      expect(Math.abs(a.state[i])).toBeLessThanOrEqual(0.1);
    }
    expect(() => a.step(3)).toThrow(RangeError);
  });
});
