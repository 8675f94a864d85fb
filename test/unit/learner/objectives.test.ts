import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../model/backend.js';
import { DEFAULT_OBJECTIVE, METHODS, type ObjectiveConfig } from '../../../learner/objectives/config.js';
import { gammaEss, maxWH, policyLoss, sech2, stopGradient, trustH, weightOf } from '../../../learner/objectives/index.js';
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

describe('THEORY.md section 3 facts', () => {
  it('h(w) at tau_h = 1 (3.1) and its limit at w -> 0 (3.2)', () => {
    const cfg = { trust: 'linear' as const, tauH: 1 };
    const want: [number, number][] = [[0.2, 0.8556], [0.5, 0.94], [2, 0.7864], [3, 0.42], [5, 0.0707], [10, 0.00049]];
    for (const [w, h] of want) expect(trustH(cfg, w)).toBeCloseTo(h, 4);
    expect(trustH(cfg, 1e-12)).toBeCloseTo(sech2(0.5), 9);
  });
  it('M(tau_h) = max w h(w) (3.3)', () => {
    // THEORY.md rounds M(2) = 1.19845 up to 1.199, so M is compared at 1e-3.
    const cases: [number, number, number][] = [[1, 1.5747, 2.06], [0.5, 2.424, 3.55], [2, 1.199, 1.38]];
    for (const [tau, m, w] of cases) {
      const got = maxWH(tau);
      expect(Math.abs(got.m - m)).toBeLessThan(1e-3);
      expect(got.w).toBeCloseTo(w, 2);
    }
  });
  it('four-quadrant table (3.5) and the floor at w = 10 (3.4)', () => {
    const cfg = { ...DEFAULT_OBJECTIVE };
    const want: [number, number, number, number][] = [[2, 1, 0.367, 1.21], [3, -1, 0.7, 1.182], [0.5, 1, 0.633, 0.664], [0.5, -1, 0.367, 0.806]];
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
    });
  }
});

/** |got - want| <= 1e-5 |want| + 1e-7: float32 relative tolerance, with an absolute floor for tiny g. */
function closeF32(got: number, want: number): boolean {
  return Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-7;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`tensor form on ${backend} reproduces every golden case as one batch`, () => {
    for (const c of golden.weights) {
      it(caseName(c), async () => {
        await initBackend(backend);
        expect(tf.getBackend()).toBe(backend);
        const cfg = configOf(c);
        const logp = tf.tensor1d(c.rows.map((r) => Math.log(r[0])));
        const logmu = tf.zeros([c.rows.length]) as tf.Tensor1D;
        const adv = tf.tensor1d(c.rows.map((r) => r[1]));
        const out = policyLoss(cfg, logp, logmu, adv, c.gammaEss !== undefined ? { gammaEss: c.gammaEss } : {});
        const g = out.g.dataSync();
        c.rows.forEach(([w, A, want], i) => {
          expect(closeF32(g[i], want), `w=${w} A=${A}: got ${g[i]}, want ${want}`).toBe(true);
        });
        // The loss value is -(1/N) sum g A logp.
        let want = 0;
        c.rows.forEach(([w, A, gw]) => (want -= (gw * A * Math.log(w)) / c.rows.length));
        expect(Math.abs(out.loss.dataSync()[0] - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want) + 1e-6);
        tf.dispose([logp, logmu, adv, out.loss, out.g, out.logRatio, out.h ?? [], out.gamma ?? []]);
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
const advInit = Array.from({ length: N }, (_, i) => ((i % 5) - 2) * 0.7 + 0.1);

type LossFn = (cfg: ObjectiveConfig, logp: tf.Tensor1D, logmu: tf.Tensor1D, adv: tf.Tensor1D) => tf.Scalar;

/** Max |autodiff gradient - formula| over the logits, and the formula's max |entry|. */
function gradientError(cfg: ObjectiveConfig, lossFn: LossFn): { err: number; scale: number } {
  return tf.tidy(() => {
    const logits = tf.variable(tf.tensor2d(logitsInit, [N, K]));
    const oneHot = tf.oneHot(tf.tensor1d(actions, 'int32'), K);
    const logmu = tf.sum(tf.mul(tf.logSoftmax(tf.tensor2d(muLogitsInit, [N, K])), oneHot), 1) as tf.Tensor1D;
    const adv = tf.tensor1d(advInit);
    const { grads } = tf.variableGrads(() => {
      const logp = tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1) as tf.Tensor1D;
      return lossFn(cfg, logp, logmu, adv);
    }, [logits]);
    const got = grads[logits.name].arraySync() as number[][];
    // Formula, with g from the float64 scalar form.
    const logp = (tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1).arraySync() as number[]);
    const lm = logmu.arraySync();
    const w = logp.map((v, i) => Math.exp(v - lm[i]));
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

const realLoss: LossFn = (cfg, logp, logmu, adv) => policyLoss(cfg, logp, logmu, adv).loss;
// The bug THEORY.md section 1 warns about: no logp factor, so the gradient is zero.
const lossWithoutLogp: LossFn = (cfg, logp, logmu, adv) => {
  const out = policyLoss(cfg, logp, logmu, adv);
  return tf.neg(tf.mean(tf.mul(stopGradient(out.g), adv))) as tf.Scalar;
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradient of policyLoss equals -(1/N) g A grad logp (${backend})`, () => {
    for (const method of METHODS) {
      it(method, async () => {
        await initBackend(backend);
        const cfg = { ...DEFAULT_OBJECTIVE, method };
        const { err, scale } = gradientError(cfg, realLoss);
        expect(scale).toBeGreaterThan(1e-3); // the check is not vacuous: the gradient is non-zero
        expect(err).toBeLessThanOrEqual(1e-5);
      });
    }
    it('the same check fails for a loss without the logp factor', async () => {
      await initBackend(backend);
      const cfg = { ...DEFAULT_OBJECTIVE, method: 'v5' as const };
      const { err, scale } = gradientError(cfg, lossWithoutLogp);
      expect(scale).toBeGreaterThan(1e-3);
      expect(err).toBeGreaterThan(1e-3);
    });
  });
}

afterAll(() => tf.disposeVariables());

describe('policyLoss tensor bookkeeping', () => {
  it('leaves only the returned tensors behind', async () => {
    await initBackend('cpu');
    for (const method of METHODS) {
      const logp = tf.tensor1d([-0.5, -1.2, -0.1]);
      const logmu = tf.tensor1d([-0.7, -0.9, -0.3]);
      const adv = tf.tensor1d([1, -1, 0.5]);
      const before = tf.memory().numTensors;
      const out = policyLoss({ ...DEFAULT_OBJECTIVE, method }, logp, logmu, adv);
      const returned = [out.loss, out.g, out.logRatio, out.h, out.gamma].filter((t) => t !== null).length;
      expect(tf.memory().numTensors - before, method).toBe(returned);
      expect(out.h === null, method).toBe(!method.startsWith('v5'));
      expect(out.gamma === null, method).toBe(!(method.startsWith('v5') || method === 'v3.1'));
      tf.dispose([logp, logmu, adv, out.loss, out.g, out.logRatio, out.h ?? [], out.gamma ?? []]);
    }
  });
});

describe('v3.1 tensor form without opts.gammaEss', () => {
  it('computes gamma_ess from the batch w (golden batch with gamma_ess < 1)', async () => {
    await initBackend('cpu');
    const b = golden.batches.find((x) => x.gammaEss < 0.5);
    if (!b) throw new Error('fixture lacks a batch with gamma_ess < 0.5');
    const A = b.w.map((_, i) => (i % 2 === 0 ? 1 : -1));
    const cfg = { ...DEFAULT_OBJECTIVE, method: 'v3.1' as const };
    const logp = tf.tensor1d(b.w.map(Math.log));
    const logmu = tf.zerosLike(logp) as tf.Tensor1D;
    const adv = tf.tensor1d(A);
    const out = policyLoss(cfg, logp, logmu, adv);
    const g = out.g.dataSync();
    b.w.forEach((w, i) => expect(closeF32(g[i], weightOf(cfg, w, A[i], b.gammaEss).g), `w=${w}`).toBe(true));
    // With gamma_ess = 1 instead, at least one weight differs clearly: the check can fail.
    expect(b.w.some((w, i) => Math.abs(g[i] - weightOf(cfg, w, A[i], 1).g) > 1e-3)).toBe(true);
    tf.dispose([logp, logmu, adv, out.loss, out.g, out.logRatio, out.gamma ?? []]);
  });
});
