/**
 * The library API (deploy/api.ts) without a training run: `loadPolicy` on real checkpoints
 * (sampled and greedy actions of a categorical and a Gaussian policy, clipping to the box,
 * evaluation, refusals) and `train` refusing bad settings before any process starts.
 * (A whole `train()` run is test/integration/api.test.ts.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy, train, UsageError } from '../../../deploy/api.js';
import { tmp } from './helpers.js';
import { savedRun } from './savedRun.js';

describe('loadPolicy', () => {
  it('a categorical policy: greedy actions are the argmax (the same every call), sampled ones follow the seed', async () => {
    const { dir } = savedRun('CartPole-v1', [3]);
    const p = await loadPolicy(dir, { seed: 5 });
    expect(p).toMatchObject({ envId: 'CartPole-v1', version: 3, spec: { obsDim: 4, nActions: 2 } });
    const obs = [0.01, -0.02, 0.03, 0.04];
    const g = p.act(obs, { greedy: true });
    expect([0, 1]).toContain(g);
    for (let i = 0; i < 5; i++) expect(p.act(obs, { greedy: true })).toBe(g);
    const q = await loadPolicy(dir, { seed: 5 });
    const a = Array.from({ length: 40 }, () => p.act(obs));
    const b = Array.from({ length: 40 }, () => q.act(obs));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(2); // sampling from two actions with non-degenerate logits, 40 draws
    expect(() => p.act([1, 2])).toThrow(/act: CartPole-v1 observations have 4 numbers, got 2/);
  });

  it('a Gaussian policy: actions are arrays clipped to the box; the greedy action is the mean', async () => {
    const { dir } = savedRun('Pendulum-v1', [1]);
    const p = await loadPolicy(dir, { seed: 1 });
    const obs = [1, 0, 0.5];
    const g = p.act(obs, { greedy: true }) as number[];
    expect(g).toHaveLength(1);
    expect(p.act(obs, { greedy: true })).toEqual(g);
    for (let i = 0; i < 50; i++) {
      const x = p.act(obs) as number[];
      expect(x[0]).toBeGreaterThanOrEqual(-2);
      expect(x[0]).toBeLessThanOrEqual(2);
    }
  });

  it('evaluate: N returns, their mean and sample std, reproducible by seed; refuses N < 1', async () => {
    const { dir } = savedRun('CartPole-v1', [2]);
    const p = await loadPolicy(dir);
    const r = p.evaluate(3, { seed: 9 });
    expect(r.returns).toHaveLength(3);
    expect(r.mean).toBeCloseTo(r.returns.reduce((x, y) => x + y, 0) / 3, 12);
    const m = r.mean;
    expect(r.std).toBeCloseTo(Math.sqrt(r.returns.reduce((s, x) => s + (x - m) ** 2, 0) / 2), 12);
    expect(p.evaluate(3, { seed: 9 }).returns).toEqual(r.returns);
    expect(p.evaluate(1, { greedy: true })).toMatchObject({ episodes: 1, std: 0 });
    expect(() => p.evaluate(0)).toThrow(RangeError);
  });

  it('refuses a target without a checkpoint, naming loadPolicy', async () => {
    await expect(loadPolicy(join(tmp('isr-api-'), 'none'))).rejects.toThrow(/^loadPolicy: '.*none' does not exist/);
  });
});

describe('train', () => {
  it('refuses bad settings with a UsageError naming the key, before starting anything', async () => {
    const runDir = join(tmp('isr-api-'), 'run');
    const e = await train({ method: 'bogus', 'run-dir': runDir }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/^--method: 'bogus' \(in train\(\) settings\) is not accepted; expected one of /);
    await expect(train({ stpes: 10, 'run-dir': runDir })).rejects.toThrow(/unknown key 'stpes'/);
    expect(existsSync(runDir)).toBe(false);
  });
});
