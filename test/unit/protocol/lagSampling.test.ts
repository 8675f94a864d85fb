/** Lag injection draws (protocol/lag.ts sampleLag): bounds and means of every schedule. */
import { describe, expect, it } from 'vitest';
import { maxLagOf, sampleLag, type LagSpec } from '../../../protocol/lag.js';
import { Rng } from '../../../model/rng.js';

const N = 20_000;

function draws(spec: LagSpec, seed = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: N }, () => sampleLag(spec, rng));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('sampleLag', () => {
  it('none: always 0', () => {
    expect(new Set(draws({ kind: 'none' }))).toEqual(new Set([0]));
    expect(maxLagOf({ kind: 'none' })).toBe(0);
  });

  it('fixed:K: always K', () => {
    expect(new Set(draws({ kind: 'fixed', k: 7 }))).toEqual(new Set([7]));
    expect(maxLagOf({ kind: 'fixed', k: 7 })).toBe(7);
  });

  it('uniform:K1-K2: integers in [K1, K2], each about equally often, mean (K1 + K2) / 2', () => {
    const xs = draws({ kind: 'uniform', lo: 2, hi: 6 });
    expect(xs.every((x) => Number.isInteger(x) && x >= 2 && x <= 6)).toBe(true);
    const counts = [2, 3, 4, 5, 6].map((k) => xs.filter((x) => x === k).length / N);
    for (const p of counts) expect(p).toBeGreaterThan(0.18); // 0.2 each; 5 sigma is 0.014
    expect(counts.every((p) => p < 0.22)).toBe(true);
    expect(mean(xs)).toBeCloseTo(4, 1);
    expect(new Set(draws({ kind: 'uniform', lo: 3, hi: 3 }))).toEqual(new Set([3]));
    expect(maxLagOf({ kind: 'uniform', lo: 2, hi: 6 })).toBe(6);
  });

  it.each([0.5, 3, 10])('geometric:%d: non-negative integers up to the 99.9%% quantile, mean about MEAN, P(0) = 1 / (1 + MEAN)', (m) => {
    const spec: LagSpec = { kind: 'geometric', mean: m };
    const cap = maxLagOf(spec);
    expect(cap).toBe(Math.ceil(m * Math.log(1000)) + 1);
    const xs = draws(spec, 5);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= cap)).toBe(true);
    // Standard error of the mean: sqrt(m (1 + m) / N); the cap removes < 0.1% of the mass.
    const se = Math.sqrt((m * (1 + m)) / N);
    expect(Math.abs(mean(xs) - m)).toBeLessThan(5 * se + 0.01 * m);
    const p0 = xs.filter((x) => x === 0).length / N;
    expect(Math.abs(p0 - 1 / (1 + m))).toBeLessThan(0.02);
  });

  it('draws depend only on the generator state: same seed, same lags', () => {
    const spec: LagSpec = { kind: 'geometric', mean: 2 };
    expect(draws(spec, 9).slice(0, 50)).toEqual(draws(spec, 9).slice(0, 50));
    expect(draws(spec, 9).slice(0, 50)).not.toEqual(draws(spec, 10).slice(0, 50));
  });
});
