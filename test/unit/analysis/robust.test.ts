import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  iqm,
  iqmCI,
  meanBootCI,
  normalise,
  performanceProfile,
  probabilityOfImprovement,
  probabilityOfImprovement1,
  quantile,
  stratifiedBootstrap,
  trimMean,
  wilson,
} from '../../../analysis/robust.js';

/** Values computed by numpy / scipy in test/fixtures/gen-robust-stats.py (committed with its output). */
interface Ref {
  iqm: { x: number[]; iqm: number; mean: number }[];
  bootstrap: Record<'iqm_one_task' | 'mean_one_task' | 'iqm_two_tasks', { strata: number[][]; value: number; ci: [number, number] }> & {
    poi: { x: number[]; y: number[]; value: number; ci: [number, number] };
  };
  wilson: { k: number; n: number; lo: number; hi: number }[];
}
const REF = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/robust-stats.json'), 'utf8')) as Ref;

describe('interquartile mean', () => {
  it('hand-worked cases: trims int(n/4) from each end of the sorted sample', () => {
    expect(iqm([7])).toBe(7);
    expect(iqm([1, 3, 2])).toBe(2); // n = 3: nothing cut
    expect(iqm([4, 1, 3, 2])).toBe(2.5); // cut 1 each end: mean(2, 3)
    expect(iqm([0, 3, 7, 10, 500])).toBeCloseTo(20 / 3, 12); // the 500 outlier is cut
    expect(iqm([1, 2, 3, 4, 5, 6, 7, 8])).toBe(4.5); // cut 2 each end: mean(3..6)
    expect(trimMean([1, 2, 3, 4, 100], 0.2)).toBe(3);
    expect(() => iqm([])).toThrow(/no values/);
    expect(() => trimMean([1, 2], 0.5)).toThrow(/proportion/);
  });

  it('matches scipy.stats.trim_mean(x, 0.25) on the reference samples', () => {
    expect(REF.iqm.length).toBeGreaterThanOrEqual(9);
    for (const r of REF.iqm) expect(iqm(r.x), JSON.stringify(r.x)).toBeCloseTo(r.iqm, 10);
  });
});

describe('seeded bootstrap', () => {
  it('refuses a seed that is not an integer (the generator is model/rng.ts, tested there)', () => {
    expect(() => iqmCI([[1, 2, 3]], { seed: 1.5 })).toThrow(/seed must be an integer/);
  });

  it('quantile interpolates linearly like numpy.percentile', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 0, 20], 0.25)).toBe(5);
    expect(quantile([3], 0.975)).toBe(3);
  });

  it('hand-worked: a constant sample has a zero-width CI; one value cannot be resampled into anything else', () => {
    expect(iqmCI([[5, 5, 5]], { reps: 50 })).toEqual({ value: 5, lo: 5, hi: 5 });
    expect(meanBootCI([[3]], { reps: 50 })).toEqual({ value: 3, lo: 3, hi: 3 });
    // Two values {0, 1}, n = 2: the resample mean is 0, 0.5 or 1 with prob 1/4, 1/2, 1/4.
    const ci = meanBootCI([[0, 1]], { reps: 4000, seed: 1 });
    expect(ci.value).toBe(0.5);
    expect(ci.lo).toBe(0);
    expect(ci.hi).toBe(1);
  });

  it('the same seed gives the same interval, another seed a slightly different one', () => {
    const data = REF.bootstrap.iqm_one_task.strata;
    expect(iqmCI(data, { seed: 7 })).toEqual(iqmCI(data, { seed: 7 }));
    expect(iqmCI(data, { seed: 7, reps: 500 })).not.toEqual(iqmCI(data, { seed: 8, reps: 500 }));
  });

  it("stratified: every resample keeps each task's run count", () => {
    const sizes: string[] = [];
    stratifiedBootstrap(
      [
        [1, 2, 3],
        [4, 5],
      ],
      (s) => (sizes.push(s.map((t) => t.length).join(',')), 0),
      { reps: 20 },
    );
    expect(new Set(sizes)).toEqual(new Set(['3,2']));
    // Resampling within strata: task 2's values never appear in task 1's slot.
    stratifiedBootstrap(
      [
        [1, 2, 3],
        [40, 50],
      ],
      (s) => {
        expect(s[0]!.every((x) => x < 10) && s[1]!.every((x) => x > 10)).toBe(true);
        return 0;
      },
      { reps: 50 },
    );
  });

  // Bootstrap percentiles of numpy with 200,000 resamples; ours with 20,000 from another
  // generator: the intervals agree to Monte Carlo error (a few % of the data's range).
  it.each([
    ['iqm_one_task', (s: number[][]) => iqmCI(s, { reps: 20000, seed: 3 }), 12],
    ['mean_one_task', (s: number[][]) => meanBootCI(s, { reps: 20000, seed: 3 }), 6],
    ['iqm_two_tasks', (s: number[][]) => iqmCI(s, { reps: 20000, seed: 3 }), 0.02],
  ] as const)("%s: the CI matches numpy's bootstrap", (name, f, tol) => {
    const ref = REF.bootstrap[name];
    const got = f(ref.strata);
    expect(got.value).toBeCloseTo(ref.value, 10);
    expect(Math.abs(got.lo - ref.ci[0]), `lo ${got.lo} vs ${ref.ci[0]}`).toBeLessThan(tol);
    expect(Math.abs(got.hi - ref.ci[1]), `hi ${got.hi} vs ${ref.ci[1]}`).toBeLessThan(tol);
  });

  it('the cross-check can fail: a mean CI is far from the IQM reference', () => {
    const ref = REF.bootstrap.iqm_one_task;
    const wrong = meanBootCI(ref.strata, { reps: 20000, seed: 3 });
    expect(Math.abs(wrong.lo - ref.ci[0])).toBeGreaterThan(12);
  });
});

describe('probability of improvement', () => {
  it('hand-worked: pairs won, ties count one half', () => {
    expect(probabilityOfImprovement1([2, 3], [1, 3])).toBe((1 + 0 + 1 + 0.5) / 4); // (2,1) (2,3) (3,1) (3,3)
    expect(probabilityOfImprovement1([5], [5])).toBe(0.5);
    expect(probabilityOfImprovement1([0, 0], [1, 1])).toBe(0);
  });

  it('matches numpy (value exactly, bootstrap CI within Monte Carlo error)', () => {
    const r = REF.bootstrap.poi;
    const got = probabilityOfImprovement([r.x], [r.y], { reps: 20000, seed: 5 });
    expect(got.value).toBeCloseTo(r.value, 12);
    expect(Math.abs(got.lo - r.ci[0])).toBeLessThan(0.03);
    expect(Math.abs(got.hi - r.ci[1])).toBeLessThan(0.03);
  });

  it('averages over tasks and refuses mismatched tasks', () => {
    expect(probabilityOfImprovement([[1], [0]], [[0], [1]], { reps: 10 }).value).toBe(0.5);
    expect(() => probabilityOfImprovement([[1]], [[0], [1]])).toThrow(/same tasks/);
  });
});

describe('Wilson interval, performance profile, normalisation', () => {
  it('matches scipy binomtest(...).proportion_ci(method="wilson")', () => {
    for (const r of REF.wilson) {
      const w = wilson(r.k, r.n);
      expect(w.value).toBe(r.k / r.n);
      expect(w.lo, `${r.k}/${r.n}`).toBeCloseTo(r.lo, 9);
      expect(w.hi, `${r.k}/${r.n}`).toBeCloseTo(r.hi, 9);
    }
    expect(() => wilson(4, 3)).toThrow(/k = 4, n = 3/);
  });

  it('profile: fraction of runs above tau, averaged over tasks', () => {
    expect(performanceProfile([[0.1, 0.5, 0.9, 1]], [0, 0.5, 1])).toEqual([1, 0.5, 0]);
    expect(
      performanceProfile(
        [
          [1, 1],
          [0, 1],
        ],
        [0.5],
      ),
    ).toEqual([0.75]);
  });

  it('normalise: random -> 0, max -> 1', () => {
    expect(normalise(22, 22, 500)).toBe(0);
    expect(normalise(500, 22, 500)).toBe(1);
    expect(normalise(-250, -500, 0)).toBe(0.5);
    expect(() => normalise(1, 5, 5)).toThrow(/differ/);
  });
});
