import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_OBJECTIVE, METHODS, type ObjectiveConfig } from '../../../protocol/objectiveConfig.js';
import {
  assertFiniteArray,
  computeWeights,
  gammaEss,
  maxWH,
  NonFiniteInputError,
  WeightBatch,
  weightFromLogRatio,
  weightOf,
} from '../../../learner/objectives/index.js';

const method = fc.constantFrom(...METHODS);
/** The draft's v5 at the docs/METHODS.md section 2 defaults (the default method is ppo). */
const DRAFT: ObjectiveConfig = { ...DEFAULT_OBJECTIVE, method: 'v5' };
/** Finite log-ratios, the extremes +/-1e4 included (they are clamped to +/-20). */
const logRatio = fc.oneof(fc.constantFrom(1e4, -1e4, 20, -20, 0), fc.double({ min: -1e4, max: 1e4, noNaN: true }));
const adv = fc.oneof(fc.constantFrom(0, 1, -1), fc.double({ min: -1e3, max: 1e3, noNaN: true }));
/** Any option combination of docs/METHODS.md section 2, within the accepted ranges. */
const config = fc
  .record({
    method,
    trust: fc.constantFrom('linear' as const, 'log' as const),
    sftTrust: fc.boolean(),
    floor: fc.constantFrom('const' as const, 'neg-is' as const, 'max1' as const),
    tauH: fc.double({ min: 0.1, max: 5, noNaN: true }),
    tauC: fc.double({ min: 0.1, max: 5, noNaN: true }),
    gammaBase: fc.double({ min: 0, max: 1, noNaN: true }),
    gammaMax: fc.double({ min: 0, max: 1, noNaN: true }),
    gamma: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map((p): ObjectiveConfig => ({ ...DEFAULT_OBJECTIVE, ...p }));

describe('properties of g (scalar form)', () => {
  it('finite log-ratios, +/-1e4 included, give finite g >= 0 for every method and option', () => {
    fc.assert(
      fc.property(config, logRatio, adv, fc.double({ min: 0, max: 1, noNaN: true }), (cfg, lr, A, ge) => {
        const { g } = weightFromLogRatio(cfg, lr, A, ge);
        return Number.isFinite(g) && g >= 0;
      }),
      { numRuns: 2000 },
    );
  });

  it('v5 g lies strictly inside (1 - gamma_max, 1 + gamma_max (M - 1))', () => {
    // |log w| <= 5, |A| <= 3 keeps P_wrong away from float64 saturation; beyond it the bound
    // holds non-strictly (see the next property).
    fc.assert(
      fc.property(
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.constantFrom(0.5, 1, 2),
        (lr, A, tauH) => {
          const cfg = { ...DRAFT, tauH };
          const { g } = weightFromLogRatio(cfg, lr, A);
          const m = maxWH(tauH).m;
          return g > 1 - cfg.gammaMax && g < 1 + cfg.gammaMax * (m - 1);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('v5 g stays within [1 - gamma_max, 1 + gamma_max (M - 1)] at the clamp extremes', () => {
    const m = maxWH(1).m;
    fc.assert(
      fc.property(logRatio, adv, (lr, A) => {
        const { g } = weightFromLogRatio(DRAFT, lr, A);
        return g >= 1 - DEFAULT_OBJECTIVE.gammaMax && g <= 1 + DEFAULT_OBJECTIVE.gammaMax * (m - 1);
      }),
      { numRuns: 1000 },
    );
  });

  it('ppo is exactly 0 in the clipped branches and w elsewhere', () => {
    const cfg = { ...DEFAULT_OBJECTIVE, method: 'ppo' as const };
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), adv, (w, A) => {
        const { g } = weightOf(cfg, w, A);
        const clipped = (A > 0 && w > 1 + cfg.eps) || (A < 0 && w < 1 - cfg.eps);
        return clipped ? g === 0 : g === w;
      }),
      { numRuns: 2000 },
    );
  });

  it('g(w = 1) = 1 for every method and option', () => {
    fc.assert(
      fc.property(config, adv, (cfg, A) => Math.abs(weightOf(cfg, 1, A).g - 1) <= 1e-12),
      { numRuns: 2000 },
    );
  });

  it('gamma_ess is the largest feasible gamma: ESS(w^gamma) >= ess_min, and 1 when ESS(w) meets it', () => {
    // ess_min <= 0.99: with ess_min within ~1e-12 of 1, ESS(w^gamma) is flat to rounding noise.
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -6, max: 6, noNaN: true }), { minLength: 2, maxLength: 20 }),
        fc.double({ min: 0.05, max: 0.99, noNaN: true }),
        (lws, essMin) => {
          const w = lws.map(Math.exp);
          const ge = gammaEss(w, essMin);
          const essAt = (gm: number): number => {
            const v = w.map((x) => x ** gm);
            const s = v.reduce((a, b) => a + b, 0);
            return (s * s) / (v.length * v.reduce((a, b) => a + b * b, 0));
          };
          return ge >= 0 && ge <= 1 && essAt(ge) >= essMin && (ge === 1 || essAt(Math.min(1, ge + 2 ** -29)) < essMin);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('NaN and Infinity are rejected with the field named', () => {
  const bad = fc.constantFrom(NaN, Infinity, -Infinity);
  it('scalar form: w, A, logRatio', () => {
    fc.assert(
      fc.property(method, bad, (m, x) => {
        const cfg = { ...DEFAULT_OBJECTIVE, method: m };
        expect(() => weightOf(cfg, x, 1)).toThrow(/^w = /);
        expect(() => weightOf(cfg, 1, x)).toThrow(/^A = /);
        expect(() => weightFromLogRatio(cfg, x, 1)).toThrow(/^logRatio = /);
        expect(() => weightOf(cfg, 0, 1)).toThrow(NonFiniteInputError);
      }),
      { numRuns: 50 },
    );
  });
  it('arrays: the field, the first bad index and the value', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.nat(), bad, (xs, k, x) => {
        const i = k % xs.length;
        const a = xs.slice();
        a[i] = x;
        expect(() => assertFiniteArray('logmu', a)).toThrow(`logmu[${i}] = ${String(x)}`);
        expect(() => assertFiniteArray('logmu', xs)).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });
  it('batch form: a NaN log-ratio gives NaN weights (v3.1: all of them), never a throw', () => {
    for (const method of METHODS) {
      if (method === 'sft') continue; // g = 1 whatever w is
      const cfg = { ...DEFAULT_OBJECTIVE, method };
      const g = computeWeights(cfg, Float64Array.from([0.1, NaN, -0.2]), Float64Array.from([1, 1, -1])).g;
      expect(Number.isNaN(g[1]), method).toBe(true);
      expect(g.every(Number.isNaN), method).toBe(method === 'v3.1');
    }
  });
});

describe('properties of g (batch form)', () => {
  const samples = fc.array(fc.tuple(logRatio, adv), { minLength: 1, maxLength: 40 });
  it('finite log-ratios, +/-1e4 included, give finite g >= 0 for every method and option', () => {
    fc.assert(
      fc.property(config, samples, fc.boolean(), (cfg, xs, givenGamma) => {
        const res = computeWeights(
          cfg,
          Float64Array.from(xs, (s) => s[0]),
          Float64Array.from(xs, (s) => s[1]),
          givenGamma ? { gammaEss: 0.7 } : {},
        );
        return res.g.every((x) => Number.isFinite(x) && x >= 0) && res.gammaEss >= 0 && res.gammaEss <= 1;
      }),
      { numRuns: 500 },
    );
  });
  it('is the scalar form sample by sample, bit for bit (one kernel), in a reused WeightBatch', () => {
    const out = new WeightBatch(2);
    fc.assert(
      fc.property(config, samples, fc.double({ min: 0, max: 1, noNaN: true }), (cfg, xs, ge) => {
        const res = computeWeights(
          cfg,
          Float64Array.from(xs, (s) => s[0]),
          Float32Array.from(xs, (s) => s[1]),
          { gammaEss: ge, out },
        );
        return xs.every(([lr, A], i) => {
          const one = weightFromLogRatio(cfg, lr, Math.fround(A), ge);
          return (
            Object.is(res.g[i], one.g) &&
            (res.h === null ? one.h === null : Object.is(res.h[i], one.h)) &&
            (res.gamma === null ? one.gamma === null : Object.is(res.gamma[i], one.gamma))
          );
        });
      }),
      { numRuns: 500 },
    );
  });
});
