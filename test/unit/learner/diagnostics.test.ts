import { describe, expect, it } from 'vitest';
import { ess, klMuPiK1, klMuPiK3, klPiMu, lagBucket, quantile, summarizeBatch } from '../../../learner/diagnostics.js';
import { LAG_BUCKETS } from '../../../protocol/records.js';
import { golden } from './golden.js';

/** 1e-9 relative, with an absolute floor for values that are exactly 0. */
function close(got: number, want: number): boolean {
  return Math.abs(got - want) <= 1e-9 * Math.abs(want) + 1e-15;
}

describe('golden batches (1e-9 relative)', () => {
  for (const b of golden.batches) {
    it(`w = ${JSON.stringify(b.w)}`, () => {
      expect(close(ess(b.w), b.ess), `ess ${ess(b.w)} vs ${b.ess}`).toBe(true);
      expect(close(klMuPiK1(b.w), b.k1), `k1 ${klMuPiK1(b.w)} vs ${b.k1}`).toBe(true);
      expect(close(klMuPiK3(b.w), b.k3), `k3 ${klMuPiK3(b.w)} vs ${b.k3}`).toBe(true);
      expect(close(klPiMu(b.w), b.klPiMu), `klPiMu ${klPiMu(b.w)} vs ${b.klPiMu}`).toBe(true);
      // summarizeBatch on the same w (via log w) gives the same figures.
      const n = b.w.length;
      const s = summarizeBatch({
        logRatio: Float64Array.from(b.w, Math.log),
        adv: new Array<number>(n).fill(1),
        g: b.w,
        lag: new Array<number>(n).fill(0),
      });
      expect(close(s.ess, b.ess)).toBe(true);
      expect(close(s.klMuPiK1, b.k1)).toBe(true);
      expect(close(s.klMuPiK3, b.k3)).toBe(true);
      expect(close(s.klPiMu, b.klPiMu)).toBe(true);
      expect(close(s.essG, b.ess)).toBe(true);
      expect(s.lagBuckets['0']?.n).toBe(n);
      expect(close(s.lagBuckets['0']?.ess ?? NaN, b.ess)).toBe(true);
    });
  }
});

describe('quantile', () => {
  it('interpolates linearly at p (n - 1)', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([0, 10], 0.05)).toBeCloseTo(0.5, 12);
    expect(quantile([0, 10, 20], 0.95)).toBeCloseTo(19, 12);
    expect(quantile([7], 0.05)).toBe(7);
    expect(quantile([1, 2], 0)).toBe(1);
    expect(quantile([1, 2], 1)).toBe(2);
  });
});

describe('lagBucket', () => {
  it('maps each lag to its docs/METHODS.md section 5 bucket', () => {
    const want: [number, string][] = [
      [0, '0'],
      [1, '1'],
      [2, '2-3'],
      [3, '2-3'],
      [4, '4-7'],
      [7, '4-7'],
      [8, '8-15'],
      [15, '8-15'],
      [16, '16-31'],
      [31, '16-31'],
      [32, '32-63'],
      [63, '32-63'],
      [64, '64+'],
      [1000, '64+'],
    ];
    for (const [lag, label] of want) expect(lagBucket(lag), `lag ${lag}`).toBe(label);
    for (let lag = 0; lag < 200; lag++) expect(LAG_BUCKETS).toContain(lagBucket(lag));
  });
  it('rejects negative and fractional lags', () => {
    expect(() => lagBucket(-1)).toThrow(/lag = -1/);
    expect(() => lagBucket(1.5)).toThrow(/lag = 1.5/);
    expect(() => lagBucket(NaN)).toThrow(/lag = NaN/);
  });
});

describe('summarizeBatch', () => {
  // One sample per quadrant, twice, at two lags; w = 1 counts as w <= 1, A = 0 as A <= 0.
  const w = [2, 3, 0.5, 1, 4, 1.5, 0.25, 0.8];
  const adv = [1, -1, 2, 0, 0.5, 0, 3, -2];
  const g = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
  const h = [1, 1, 1, 1, 0, 0, 0, 0];
  const gamma = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
  const lag = [0, 0, 0, 0, 5, 5, 5, 100];
  const s = summarizeBatch({ logRatio: Float32Array.from(w, Math.log), adv, g, h, gamma, lag });

  it('counts and averages g per quadrant', () => {
    expect(s.quadrants.wHighAPos).toEqual({ n: 2, meanG: expect.closeTo(0.3, 9) });
    expect(s.quadrants.wHighANeg).toEqual({ n: 2, meanG: expect.closeTo(0.4, 9) });
    expect(s.quadrants.wLowAPos).toEqual({ n: 2, meanG: expect.closeTo(0.5, 9) });
    expect(s.quadrants.wLowANeg).toEqual({ n: 2, meanG: expect.closeTo(0.6, 9) });
  });
  it('splits by lag bucket, leaving empty buckets out', () => {
    expect(Object.keys(s.lagBuckets).sort()).toEqual(['0', '4-7', '64+']);
    expect(s.lagBuckets['0']?.n).toBe(4);
    expect(s.lagBuckets['4-7']?.n).toBe(3);
    expect(s.lagBuckets['64+']?.n).toBe(1);
    expect(s.lagBuckets['64+']?.meanG).toBeCloseTo(0.8, 9);
    expect(s.lagBuckets['64+']?.quadrants.wLowANeg).toEqual({ n: 1, meanG: expect.closeTo(0.8, 9) });
    expect(s.lagBuckets['64+']?.quadrants.wHighAPos).toEqual({ n: 0, meanG: null });
    expect(s.lagBuckets['0']?.ess).toBeCloseTo(ess([2, 3, 0.5, 1]), 6);
  });
  it('reports means and w quantiles', () => {
    expect(s.meanG).toBeCloseTo(0.45, 12);
    expect(s.meanH).toBe(0.5);
    expect(s.meanGamma).toBe(0.5);
    const sorted = [...w].sort((a, b) => a - b);
    expect(s.wQuantiles.p50).toBeCloseTo(quantile(sorted, 0.5), 6);
    expect(s.wQuantiles.p05).toBeCloseTo(quantile(sorted, 0.05), 6);
    expect(s.wQuantiles.p95).toBeCloseTo(quantile(sorted, 0.95), 6);
    expect(s.essG).toBeCloseTo(ess(g), 12);
  });
  it('gives null meanH / meanGamma for methods without them, and rejects bad shapes', () => {
    const t = summarizeBatch({ logRatio: new Float64Array([0, 0.5]), adv: [1, -1], g: [1, 1], lag: [0, 1] });
    expect(t.meanH).toBeNull();
    expect(t.meanGamma).toBeNull();
    expect(() => summarizeBatch({ logRatio: new Float64Array(0), adv: [], g: [], lag: [] })).toThrow(/empty/);
    expect(() => summarizeBatch({ logRatio: new Float64Array(2), adv: [1], g: [1, 1], lag: [0, 0] })).toThrow(/adv has length 1/);
  });
});
