import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../model/backend.js';
import { DEFAULT_OBJECTIVE, METHODS, type ObjectiveConfig } from '../../../protocol/objectiveConfig.js';
import { computeWeights, gammaEss, maxWH, sech2, trustH, WeightBatch, weightOf } from '../../../learner/objectives/index.js';
import { policyLossTf } from '../../../learner/loss.js';
import { caseName, configOf, golden } from './golden.js';

describe('scalar form reproduces every golden row (1e-6 abs)', () => {
  for (const c of golden.weights) {
    it(caseName(c), () => {
      const cfg = configOf(c);
      for (const [w, A, g] of c.rows) {
        const got = weightOf(cfg, w, A, c.gammaEss ?? 1).g;
        expect(Math.abs(got - g), `w=${w} A=${A}: got ${got}, want ${g}`).toBeLessThanOrEqual(1e-6);
      }
    });
  }
});

describe('batch form computeWeights reproduces every golden case as one batch (1e-6 abs)', () => {
  const out = new WeightBatch(4); // too small on purpose: it grows, and is reused across cases
  for (const c of golden.weights) {
    it(caseName(c), () => {
      const cfg = configOf(c);
      const logRatio = Float64Array.from(c.rows, (r) => Math.log(r[0]));
      const adv = Float64Array.from(c.rows, (r) => r[1]);
      const res = computeWeights(cfg, logRatio, adv, { out, ...(c.gammaEss !== undefined ? { gammaEss: c.gammaEss } : {}) });
      expect(res.g.length).toBe(c.rows.length);
      c.rows.forEach(([w, A, want], i) => {
        expect(Math.abs(res.g[i] - want), `w=${w} A=${A}: got ${res.g[i]}, want ${want}`).toBeLessThanOrEqual(1e-6);
        // h and gamma are those of the scalar form, and present exactly for the methods that have them.
        const one = weightOf(cfg, w, A, c.gammaEss ?? 1);
        expect(res.h === null).toBe(one.h === null);
        expect(res.gamma === null).toBe(one.gamma === null);
        if (res.h !== null) expect(res.h[i]).toBeCloseTo(one.h!, 12);
        if (res.gamma !== null) expect(res.gamma[i]).toBeCloseTo(one.gamma!, 12);
      });
    });
  }
});

describe('WeightBatch reuse', () => {
  it('an empty batch, then growing and shrinking n, gives what a fresh WeightBatch gives', () => {
    const out = new WeightBatch();
    for (const method of METHODS) {
      const cfg = { ...DEFAULT_OBJECTIVE, method };
      expect(computeWeights(cfg, new Float64Array(0), new Float64Array(0), { out }).g.length).toBe(0);
      for (const n of [3, 300, 7]) {
        const lr = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
        const A = Float64Array.from({ length: n }, (_, i) => Math.cos(2 * i));
        const got = computeWeights(cfg, lr, A, { out });
        const fresh = computeWeights(cfg, lr, A);
        expect(got.n).toBe(n);
        expect(Array.from(got.g)).toEqual(Array.from(fresh.g));
        expect(got.gammaEss).toBe(fresh.gammaEss);
      }
    }
  });
});

describe('docs/METHODS.md section 3 facts', () => {
  it('h(w) at tau_h = 1 (3.1) and its limit at w -> 0 (3.2)', () => {
    const cfg = { trust: 'linear' as const, tauH: 1 };
    const want: [number, number][] = [
      [0.2, 0.8556],
      [0.5, 0.94],
      [2, 0.7864],
      [3, 0.42],
      [5, 0.0707],
      [10, 0.00049],
    ];
    for (const [w, h] of want) expect(trustH(cfg, w)).toBeCloseTo(h, 4);
    expect(trustH(cfg, 1e-12)).toBeCloseTo(sech2(0.5), 9);
  });
  it('M(tau_h) = max w h(w) (3.3)', () => {
    // The draft spec rounds M(2) = 1.19845 up to 1.199, so M is compared at 1e-3.
    const cases: [number, number, number][] = [
      [1, 1.5747, 2.06],
      [0.5, 2.424, 3.55],
      [2, 1.199, 1.38],
    ];
    for (const [tau, m, w] of cases) {
      const got = maxWH(tau);
      expect(Math.abs(got.m - m)).toBeLessThan(1e-3);
      expect(got.w).toBeCloseTo(w, 2);
    }
  });
  it('four-quadrant table (3.5) and the floor at w = 10 (3.4)', () => {
    const cfg = { ...DEFAULT_OBJECTIVE, method: 'v5' as const }; // the draft's v5 at its defaults
    const want: [number, number, number, number][] = [
      [2, 1, 0.367, 1.21],
      [3, -1, 0.7, 1.182],
      [0.5, 1, 0.633, 0.664],
      [0.5, -1, 0.367, 0.806],
    ];
    for (const [w, A, gamma, g] of want) {
      const r = weightOf(cfg, w, A);
      expect(r.gamma).toBeCloseTo(gamma, 3);
      expect(r.g).toBeCloseTo(g, 3);
    }
    expect(weightOf(cfg, 10, 1).g).toBeCloseTo(0.828, 3);
    expect(weightOf(cfg, 10, -1).g).toBeCloseTo(0.177, 3);
  });
});

describe('gammaEss reproduces the golden batches', () => {
  for (const b of golden.batches) {
    it(`w = ${JSON.stringify(b.w)}`, () => {
      expect(Math.abs(gammaEss(b.w, DEFAULT_OBJECTIVE.essMin) - b.gammaEss)).toBeLessThanOrEqual(1e-9);
      // computeWeights finds the same exponent from the batch's own w when none is given.
      const cfg = { ...DEFAULT_OBJECTIVE, method: 'v3.1' as const };
      const res = computeWeights(
        cfg,
        Float64Array.from(b.w, Math.log),
        Float64Array.from(b.w, () => 1),
      );
      expect(Math.abs(res.gammaEss - b.gammaEss)).toBeLessThanOrEqual(1e-9);
    });
  }
});

describe('v3.1 computeWeights without opts.gammaEss', () => {
  it('computes gamma_ess from the batch w (golden batch with gamma_ess < 1)', () => {
    const b = golden.batches.find((x) => x.gammaEss < 0.5);
    if (!b) throw new Error('fixture lacks a batch with gamma_ess < 0.5');
    const A = b.w.map((_, i) => (i % 2 === 0 ? 1 : -1));
    const cfg = { ...DEFAULT_OBJECTIVE, method: 'v3.1' as const };
    const g = computeWeights(cfg, Float64Array.from(b.w, Math.log), Float64Array.from(A)).g;
    b.w.forEach((w, i) => expect(Math.abs(g[i] - weightOf(cfg, w, A[i], b.gammaEss).g), `w=${w}`).toBeLessThanOrEqual(1e-12));
    // With gamma_ess = 1 instead, at least one weight differs clearly: the check can fail.
    expect(b.w.some((w, i) => Math.abs(g[i] - weightOf(cfg, w, A[i], 1).g) > 1e-3)).toBe(true);
  });
});

/** |got - want| <= 1e-5 |want| + 1e-7: float32 relative tolerance, with an absolute floor for tiny g. */
function closeF32(got: number, want: number): boolean {
  return Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-7;
}

// ---- The tfjs path takes g as data: d loss / d logp_i = -(1/N) g_i A_i with the golden g ----

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`tfjs policy loss on ${backend}: its gradient in logp carries every golden g`, () => {
    for (const c of golden.weights) {
      it(caseName(c), async () => {
        await initBackend(backend);
        expect(tf.getBackend()).toBe(backend);
        const cfg = configOf(c);
        const n = c.rows.length;
        const lw = c.rows.map((r) => Math.log(r[0]));
        // logp is float32; logmu = fround(log w) - log w (exact) makes logp - logmu = log w exactly.
        const logp = tf.variable(tf.tensor1d(lw));
        const logmu = Float64Array.from(lw, (x) => Math.fround(x) - x);
        const adv = Float64Array.from(c.rows, (r) => r[1]);
        const wts = new WeightBatch();
        const { value, grads } = tf.variableGrads(
          () => policyLossTf(cfg, logp, logmu, adv, wts, ...(c.gammaEss !== undefined ? [c.gammaEss] : [])),
          [logp],
        );
        const grad = grads[logp.name].dataSync();
        c.rows.forEach(([w, A, want], i) => {
          expect(Math.abs(wts.g[i] - want), `float64 g at w=${w} A=${A}`).toBeLessThanOrEqual(1e-6);
          if (A === 0) expect(Math.abs(grad[i]), `w=${w} A=0: no gradient`).toBe(0);
          else {
            const got = (-n * grad[i]) / A;
            expect(closeF32(got, want), `w=${w} A=${A}: gradient gives g = ${got}, want ${want}`).toBe(true);
          }
        });
        // The loss value is -(1/N) sum g A logp.
        let want = 0;
        c.rows.forEach(([w, A, gw]) => (want -= (gw * A * Math.fround(Math.log(w))) / n));
        expect(Math.abs(value.dataSync()[0] - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want) + 1e-6);
        tf.dispose([logp, value, grads[logp.name]]);
      });
    }
  });
}

// ---- Gradient proof: autodiff grad of the loss equals -(1/N) g A (onehot - softmax) ----

const N = 12;
const K = 3;
// Deterministic logits, behaviour logits and advantages, spread so that every method's g is
// non-zero on most samples and w covers both sides of 1.
const logitsInit = Array.from({ length: N * K }, (_, i) => Math.sin(1.7 * i + 0.3) * 1.2);
const muLogitsInit = Array.from({ length: N * K }, (_, i) => Math.cos(0.9 * i) * 0.8);
const actions = Array.from({ length: N }, (_, i) => (i * 7) % K);
const advInit = Float32Array.from({ length: N }, (_, i) => ((i % 5) - 2) * 0.7 + 0.1);

type LossFn = (cfg: ObjectiveConfig, logp: tf.Tensor1D, logmu: Float32Array, adv: Float32Array) => tf.Scalar;

/** Max |autodiff gradient - formula| over the logits, and the formula's max |entry|. */
function gradientError(cfg: ObjectiveConfig, lossFn: LossFn): { err: number; scale: number } {
  return tf.tidy(() => {
    const logits = tf.variable(tf.tensor2d(logitsInit, [N, K]));
    const oneHot = tf.oneHot(tf.tensor1d(actions, 'int32'), K);
    const logmu = tf.sum(tf.mul(tf.logSoftmax(tf.tensor2d(muLogitsInit, [N, K])), oneHot), 1).dataSync() as Float32Array;
    const { grads } = tf.variableGrads(() => {
      const logp = tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1) as tf.Tensor1D;
      return lossFn(cfg, logp, logmu, advInit);
    }, [logits]);
    const got = grads[logits.name].arraySync() as number[][];
    // Formula, with g from the float64 scalar form.
    const logp = tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1).arraySync() as number[];
    const w = logp.map((v, i) => Math.exp(v - logmu[i]));
    const ge = cfg.method === 'v3.1' ? gammaEss(w, cfg.essMin) : 1;
    const sm = tf.softmax(logits).arraySync() as number[][];
    const oh = oneHot.arraySync() as number[][];
    let err = 0;
    let scale = 0;
    for (let i = 0; i < N; i++) {
      const g = weightOf(cfg, w[i], advInit[i], ge).g;
      for (let k = 0; k < K; k++) {
        const want = (-1 / N) * g * advInit[i] * (oh[i][k] - sm[i][k]);
        err = Math.max(err, Math.abs(got[i][k] - want));
        scale = Math.max(scale, Math.abs(want));
      }
    }
    logits.dispose();
    return { err, scale };
  });
}

/** Every method at its defaults, then the floor options of v5 and v5-fixed (docs/METHODS.md section 2.3). */
const GRADIENT_CONFIGS: [string, ObjectiveConfig][] = [
  ...METHODS.map((m): [string, ObjectiveConfig] => [m, { ...DEFAULT_OBJECTIVE, method: m }]),
  ['v5 floor=neg-is', { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'neg-is' }],
  ['v5 floor=max1', { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'max1' }],
  ['v5-fixed floor=max1', { ...DEFAULT_OBJECTIVE, method: 'v5-fixed', floor: 'max1' }],
];

/** (w, A) of the gradient-proof samples at their initial logits. */
function sampleRatios(): [number, number][] {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(actions, 'int32'), K);
    const lp = tf.sum(tf.mul(tf.logSoftmax(tf.tensor2d(logitsInit, [N, K])), oneHot), 1).arraySync() as number[];
    const lm = tf.sum(tf.mul(tf.logSoftmax(tf.tensor2d(muLogitsInit, [N, K])), oneHot), 1).arraySync() as number[];
    return lp.map((v, i): [number, number] => [Math.exp(v - lm[i]!), advInit[i]!]);
  });
}

const realLoss: LossFn = (cfg, logp, logmu, adv) => policyLossTf(cfg, logp, logmu, adv);
// The bug docs/METHODS.md section 1 warns about: no logp factor, so the gradient is zero (the loss
// keeps a zero-weighted logp term only so that autodiff finds the variable).
const lossWithoutLogp: LossFn = (cfg, logp, logmu, adv) => {
  const g = computeWeights(
    cfg,
    Float64Array.from(logp.dataSync(), (x, i) => x - logmu[i]),
    adv,
  ).g;
  const c = Float32Array.from(g, (gi, i) => (-gi * adv[i]) / N);
  return tf.add(tf.sum(tf.tensor1d(c)), tf.mul(0, tf.sum(logp))) as tf.Scalar;
};
// The other bug: g as a differentiable expression of logp (IS, g = w = e^{logp - logmu}), not sg[g].
const lossWithoutStopGradient: LossFn = (_cfg, logp, logmu, adv) => {
  const w = tf.exp(tf.sub(logp, tf.tensor1d(logmu)));
  return tf.neg(tf.div(tf.sum(tf.mul(tf.mul(w, tf.tensor1d(adv)), logp)), N)) as tf.Scalar;
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradient of the tfjs policy loss equals -(1/N) g A grad logp (${backend})`, () => {
    for (const [name, cfg] of GRADIENT_CONFIGS) {
      it(name, async () => {
        await initBackend(backend);
        const { err, scale } = gradientError(cfg, realLoss);
        expect(scale).toBeGreaterThan(1e-3); // the check is not vacuous: the gradient is non-zero
        expect(err).toBeLessThanOrEqual(1e-5);
      });
    }
    it('the max1 check is not vacuous: on these samples max1 raises g above the constant floor', () => {
      const raised = sampleRatios().filter(
        ([w, A]) =>
          weightOf({ ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'max1' }, w, A).g >
          weightOf({ ...DEFAULT_OBJECTIVE, method: 'v5' }, w, A).g + 1e-3,
      );
      expect(raised.length).toBeGreaterThan(0);
    });
    it('the same check fails for a loss without the logp factor', async () => {
      await initBackend(backend);
      const { err, scale } = gradientError({ ...DEFAULT_OBJECTIVE, method: 'v5' }, lossWithoutLogp);
      expect(scale).toBeGreaterThan(1e-3);
      expect(err).toBeGreaterThan(1e-3);
    });
    it('the same check fails for a loss whose weight is not a stop-gradient', async () => {
      await initBackend(backend);
      const { err, scale } = gradientError({ ...DEFAULT_OBJECTIVE, method: 'is' }, lossWithoutStopGradient);
      expect(scale).toBeGreaterThan(1e-3);
      expect(err).toBeGreaterThan(1e-3);
    });
  });
}

afterAll(() => tf.disposeVariables());

describe('policyLossTf tensor bookkeeping', () => {
  it('leaves only the returned loss behind, and fills the weights', async () => {
    await initBackend('cpu');
    for (const method of METHODS) {
      const logp = tf.tensor1d([-0.5, -1.2, -0.1]);
      const before = tf.memory().numTensors;
      const wts = new WeightBatch();
      const loss = policyLossTf(
        { ...DEFAULT_OBJECTIVE, method },
        logp,
        Float32Array.from([-0.7, -0.9, -0.3]),
        Float32Array.from([1, -1, 0.5]),
        wts,
      );
      expect(tf.memory().numTensors - before, method).toBe(1);
      expect(wts.n).toBe(3);
      expect(wts.h === null, method).toBe(!method.startsWith('v5'));
      expect(wts.gamma === null, method).toBe(!(method.startsWith('v5') || method === 'v3.1'));
      tf.dispose([logp, loss]);
    }
  });
});
