import { describe, expect, it } from 'vitest';
import { meanCI, rankWithTies, tCdf, tQuantile, welchTest } from '../../../analysis/stats.js';

// Reference values from scipy 1.17: stats.t.ppf, stats.t.cdf, stats.ttest_ind(equal_var=False).
describe('Student t', () => {
  it.each([
    [1, 12.706204736174694],
    [2, 4.302652729749462],
    [4, 2.7764451051977934],
    [10, 2.228138851986274],
    [29.5, 2.043724966772122],
  ])('t quantile 0.975 at df %s', (df, q) => {
    expect(tQuantile(0.975, df)).toBeCloseTo(q, 8);
    expect(tQuantile(0.025, df)).toBeCloseTo(-q, 8);
  });

  it('cdf at a non-integer df', () => {
    expect(tCdf(1.5, 3.7)).toBeCloseTo(0.8932009153989933, 10);
    expect(tCdf(0, 7)).toBeCloseTo(0.5, 12);
  });
});

describe('meanCI', () => {
  it('matches scipy for [10, 12, 17]', () => {
    const s = meanCI([10, 12, 17]);
    expect(s.mean).toBe(13);
    expect(s.lo).toBeCloseTo(4.043314104970403, 8);
    expect(s.hi).toBeCloseTo(21.956685895029597, 8);
  });

  it('gives no CI for n = 1 and throws for n = 0', () => {
    expect(meanCI([5])).toEqual({ n: 1, mean: 5, halfWidth: null, lo: null, hi: null });
    expect(() => meanCI([])).toThrow(RangeError);
  });
});

describe('welchTest', () => {
  it('matches scipy ttest_ind(equal_var=False)', () => {
    const r = welchTest([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
    expect(r.t).toBeCloseTo(-1.8973665961010275, 10);
    expect(r.df).toBeCloseTo(5.882352941176471, 10);
    expect(r.p).toBeCloseTo(0.10753119493062728, 8);
    const s = welchTest([480, 495, 500], [300, 350, 410, 390]);
    expect(s.t).toBeCloseTo(5.163798686058965, 10);
    expect(s.df).toBeCloseTo(3.3598392510522763, 10);
    expect(s.p).toBeCloseTo(0.010591837716317363, 8);
  });

  it('handles zero variance and rejects n < 2', () => {
    expect(welchTest([3, 3], [3, 3]).p).toBe(1);
    expect(welchTest([3, 3], [4, 4]).p).toBe(0);
    expect(() => welchTest([1], [1, 2])).toThrow(RangeError);
  });
});

describe('rankWithTies', () => {
  it('ranks by mean and marks ties with the best by Welch p >= 0.05', () => {
    const rows = rankWithTies([
      { key: 'ppo', values: [300, 350, 410, 390] },
      { key: 'v5', values: [480, 495, 500] },
      { key: 'is', values: [470, 500, 490] },
      { key: 'one', values: [100] },
    ]);
    expect(rows.map((r) => [r.key, r.rank, r.tied])).toEqual([
      ['v5', 1, true],
      ['is', 2, true],
      ['ppo', 3, false],
      ['one', 4, null],
    ]);
    expect(rows[2]!.p).toBeCloseTo(0.010591837716317363, 8);
    expect(rows[3]!.note).toMatch(/n < 2/);
  });
});
