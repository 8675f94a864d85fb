/**
 * The Gaussian head (continuous actions) on the fast gradient path: lossAndGradJs against tfjs
 * autodiff (learner/loss.ts with the Gaussian log-density) for every method, and against float64
 * central differences, as lossJs.test.ts does for the categorical head.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { policyLogits } from '../../../model/forward.js';
import { gaussianEntropy, gaussianLogProb, sampleGaussianActions } from '../../../model/distributions.js';
import { Workspace } from '../../../model/grad.js';
import { initParams, logStdOffset, paramCount } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';
import type { ModelSpec } from '../../../model/spec.js';
import type { Batch } from '../../../learner/batch.js';
import type { LearnerConfig } from '../../../learner/config.js';
import { lossAndGrad } from '../../../learner/loss.js';
import { lossAndGradJs, lossBackwardJs, lossForwardJs, lossTerms } from '../../../learner/lossJs.js';
import { selectRows } from '../../../learner/batch.js';
import { computeWeights } from '../../../learner/objectives/weights.js';
import { DEFAULT_OBJECTIVE, METHODS, type ObjectiveConfig } from '../../../protocol/objectiveConfig.js';
import { learnerConfig } from './fakes.js';
import { expectFiniteDifferenceGradient } from './gradCheck.js';

const specs: ModelSpec[] = [
  { obsDim: 3, nActions: 1, hidden: [64, 64], head: 'gaussian' },
  { obsDim: 5, nActions: 3, hidden: [16, 8], head: 'gaussian' },
];

/** The loss's hyperparameters with `objective` (one epoch, one minibatch, GAE). */
function lossConfig(objective: ObjectiveConfig): LearnerConfig {
  return learnerConfig({ objective, advantage: 'gae', epochs: 1, minibatches: 1, steps: 1 });
}

/** CleanRL init plus noise, log standard deviations spread around 0 (float32, as on the wire). */
function randomParams(spec: ModelSpec, seed: number): Float32Array {
  const p = initParams(spec, seed);
  const r = new Rng(seed + 100);
  for (let i = 0; i < p.length; i++) p[i] += Math.fround(0.2 * r.normal());
  return p;
}

/** Actions sampled from the policy itself, logmu = its log-density minus noise, so w = e^u, u ~ U[log 0.3, log 3]. */
function randomBatch(spec: ModelSpec, params: Float32Array, n: number, seed: number): Batch {
  const rng = new Rng(seed);
  const A = spec.nActions;
  const obs = Float32Array.from({ length: n * spec.obsDim }, () => 1.5 * rng.normal());
  const mean = policyLogits(spec, params, obs, n);
  const boxActions = new Float32Array(n * A);
  const logmu = new Float32Array(n);
  sampleGaussianActions(mean, n, A, params, logStdOffset(spec), rng, boxActions, logmu);
  const lo = Math.log(0.3),
    hi = Math.log(3);
  for (let i = 0; i < n; i++) logmu[i] -= lo + (hi - lo) * rng.uniform();
  const adv = Float32Array.from({ length: n }, () => rng.normal());
  const targets = Float32Array.from({ length: n }, () => rng.normal());
  return {
    n,
    obs,
    actions: new Int32Array(0),
    boxActions,
    logmu,
    adv,
    targets,
    lag: new Int32Array(n),
    logRatio: new Float64Array(n),
    entropy: 0,
  };
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / s);
}

describe('Gaussian log-density, entropy and sampling', () => {
  it('gaussianLogProb is the sum of the per-dimension normal log-densities; the entropy the closed form', () => {
    const a = [0.3, -1.2],
      mean = [0.1, 0.4],
      ls = [-0.5, 0.7];
    let want = 0;
    for (let j = 0; j < 2; j++) {
      const s = Math.exp(ls[j]);
      want += Math.log(Math.exp(-0.5 * ((a[j] - mean[j]) / s) ** 2) / (s * Math.sqrt(2 * Math.PI)));
    }
    expect(gaussianLogProb(a, mean, 0, ls, 0, 2)).toBeCloseTo(want, 12);
    expect(gaussianEntropy(ls, 0, 2)).toBeCloseTo(2 * 0.5 * (1 + Math.log(2 * Math.PI)) + ls[0] + ls[1], 12);
  });

  it('samples have the policy mean and standard deviation; greedy is the mean; logp is of the stored float32 action', () => {
    const n = 20000,
      A = 2;
    const mean = new Float32Array(n * A);
    for (let r = 0; r < n; r++) {
      mean[r * A] = 0.5;
      mean[r * A + 1] = -1;
    }
    const ls = [Math.log(0.3), Math.log(2)];
    const acts = new Float32Array(n * A),
      lp = new Float32Array(n);
    sampleGaussianActions(mean, n, A, ls, 0, new Rng(9), acts, lp);
    for (let j = 0; j < A; j++) {
      let m = 0,
        v = 0;
      for (let r = 0; r < n; r++) m += acts[r * A + j] / n;
      for (let r = 0; r < n; r++) v += (acts[r * A + j] - m) ** 2 / n;
      expect(m).toBeCloseTo(mean[j], 1);
      expect(Math.sqrt(v) / Math.exp(ls[j])).toBeGreaterThan(0.97);
      expect(Math.sqrt(v) / Math.exp(ls[j])).toBeLessThan(1.03);
    }
    expect(lp[17]).toBeCloseTo(gaussianLogProb(acts, mean, 17 * A, ls, 0, A), 5);
    sampleGaussianActions(mean, 1, A, ls, 0, new Rng(9), acts, lp, true);
    expect([acts[0], acts[1]]).toEqual([0.5, -1]);
  });

  it('the layout appends nActions log standard deviations, initialised to 0, and the head changes the hash', async () => {
    const { modelHash } = await import('../../../model/params.js');
    const cat: ModelSpec = { obsDim: 3, nActions: 2, hidden: [4] };
    const g: ModelSpec = { ...cat, head: 'gaussian' };
    expect(paramCount(g)).toBe(paramCount(cat) + 2);
    expect(logStdOffset(g)).toBe(paramCount(cat));
    expect(Array.from(initParams(g, 1).subarray(logStdOffset(g)))).toEqual([0, 0]);
    expect(Array.from(initParams(g, 1).subarray(0, paramCount(cat)))).toEqual(Array.from(initParams(cat, 1)));
    expect(modelHash(g)).not.toBe(modelHash(cat));
    expect(modelHash({ ...g, envKey: 'a' })).not.toBe(modelHash({ ...g, envKey: 'b' }));
  });
});

const objectives: [string, ObjectiveConfig][] = [
  ...METHODS.map((m): [string, ObjectiveConfig] => [m, { ...DEFAULT_OBJECTIVE, method: m }]),
  ['v5 floor=neg-is', { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'neg-is' }],
  ['v5 floor=max1', { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'max1' }],
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`Gaussian head: lossAndGradJs equals tfjs lossAndGrad (${backend})`, () => {
    for (const [name, objective] of objectives) {
      it(name, async () => {
        await initBackend(backend);
        const cfg = lossConfig(objective);
        for (const [si, spec] of specs.entries()) {
          const params = randomParams(spec, 7 + si);
          const ws = new Workspace(spec, 16);
          for (const n of [256, 37]) {
            const mb = randomBatch(spec, params, n, 11 * n + si);
            const js = lossAndGradJs(spec, cfg, Float64Array.from(params), mb, ws);
            const p = tf.tensor1d(params);
            const r = lossAndGrad(spec, cfg, p, mb);
            const ref = { grad: r.grad.dataSync().slice(), terms: r.terms };
            r.grad.dispose();
            p.dispose();
            let gNorm = 0,
              lsNorm = 0;
            for (const v of ref.grad) gNorm += v * v;
            for (let j = 0; j < spec.nActions; j++) lsNorm += ref.grad[logStdOffset(spec) + j] ** 2;
            expect(Math.sqrt(gNorm), 'reference gradient must be non-trivial').toBeGreaterThan(1e-3);
            expect(Math.sqrt(lsNorm), 'the log-std gradient must be non-trivial').toBeGreaterThan(1e-4);
            expect(relL2(js.grad, ref.grad), `${spec.hidden} n=${n} grad`).toBeLessThanOrEqual(1e-4);
            const lsJs = Array.from(js.grad.subarray(logStdOffset(spec)));
            const lsRef = Array.from(ref.grad.subarray(logStdOffset(spec)));
            expect(relL2(lsJs, lsRef), `${spec.hidden} n=${n} log-std grad ${lsJs} vs ${lsRef}`).toBeLessThanOrEqual(1e-4);
            for (const k of ['total', 'policyLoss', 'valueLoss', 'entropy'] as const) {
              const tol = 1e-5 * Math.max(Math.abs(ref.terms[k]), 1e-2);
              expect(
                Math.abs(js.terms[k] - ref.terms[k]),
                `${spec.hidden} n=${n} ${k}: js ${js.terms[k]} tf ${ref.terms[k]}`,
              ).toBeLessThanOrEqual(tol);
            }
          }
        }
      });
    }
  });
}

describe('Gaussian head: the whole sft loss (g = 1) matches float64 central differences', () => {
  it('every parameter, the log standard deviations included, to 1e-6', () => {
    const spec: ModelSpec = { obsDim: 3, nActions: 2, hidden: [3, 3], head: 'gaussian' };
    const n = 5;
    const rng = new Rng(3);
    const params = Float64Array.from({ length: paramCount(spec) }, () => 0.8 * rng.normal());
    const cfg = { ...lossConfig({ ...DEFAULT_OBJECTIVE, method: 'sft' }), entCoef: 0.3 };
    const mb: Batch = {
      n,
      obs: Float32Array.from({ length: n * spec.obsDim }, () => rng.normal()),
      actions: new Int32Array(0),
      boxActions: Float32Array.from({ length: n * spec.nActions }, () => 1.5 * rng.normal()),
      logmu: new Float32Array(n).fill(-1),
      adv: Float32Array.from({ length: n }, () => rng.normal()),
      targets: Float32Array.from({ length: n }, () => rng.normal()),
      lag: new Int32Array(n),
      logRatio: new Float64Array(n),
      entropy: 0,
    };
    const ws = new Workspace(spec, n, 'js');
    const grad = lossAndGradJs(spec, cfg, params, mb, ws).grad.slice();
    expectFiniteDifferenceGradient((p) => lossAndGradJs(spec, cfg, p, mb, ws).terms.total, params, grad);
  });

  it('a NaN box action or log standard deviation yields terms.total NaN, not a throw', () => {
    const spec = specs[1];
    const params = Float64Array.from(randomParams(spec, 5));
    const cfg = lossConfig({ ...DEFAULT_OBJECTIVE, method: 'v5' });
    const ws = new Workspace(spec, 8);
    const mb = randomBatch(spec, Float32Array.from(params), 8, 1);
    expect(Number.isFinite(lossAndGradJs(spec, cfg, params, mb, ws).terms.total)).toBe(true);
    mb.boxActions![4] = NaN;
    expect(Number.isNaN(lossAndGradJs(spec, cfg, params, mb, ws).terms.total)).toBe(true);
    const mb2 = randomBatch(spec, Float32Array.from(params), 8, 1);
    const p2 = params.slice();
    p2[logStdOffset(spec)] = NaN;
    expect(Number.isNaN(lossAndGradJs(spec, cfg, p2, mb2, ws).terms.total)).toBe(true);
  });
});

describe('Gaussian head: the two loss halves on shards (what the gradient shards run) add up to the whole', () => {
  it('sum over shards of lossForwardJs / lossBackwardJs equals lossAndGradJs, log standard deviations included', () => {
    const spec = specs[1];
    const n = 12;
    const params = Float64Array.from(randomParams(spec, 9));
    const cfg = { ...lossConfig({ ...DEFAULT_OBJECTIVE, method: 'v5' }), entCoef: 0.05 };
    const mb = randomBatch(spec, Float32Array.from(params), n, 4);
    const whole = lossAndGradJs(spec, cfg, params, mb, new Workspace(spec, n, 'js'));
    expect(Number.isFinite(whole.terms.total)).toBe(true);

    const cuts = [0, 5, n];
    const shards = [0, 1].map((k) =>
      selectRows(
        mb,
        Int32Array.from({ length: cuts[k + 1] - cuts[k] }, (_, i) => cuts[k] + i),
        spec.obsDim,
      ),
    );
    const wss = shards.map((s) => new Workspace(spec, s.n, 'js'));
    const logRatio = new Float64Array(n);
    let entSum = 0,
      vlSum = 0;
    shards.forEach((s, k) => {
      const sums = lossForwardJs(spec, cfg, params, s, wss[k], logRatio.subarray(cuts[k], cuts[k + 1]), 1 / n);
      expect(sums).not.toBeNull();
      entSum += sums!.entSum;
      vlSum += sums!.vlSum;
    });
    const g = computeWeights(cfg.objective, logRatio, mb.adv, { n }).g;
    const grad = new Float64Array(paramCount(spec));
    let plSum = 0;
    shards.forEach((s, k) => {
      const part = new Float64Array(paramCount(spec));
      plSum += lossBackwardJs(spec, params, s, wss[k], g.subarray(cuts[k], cuts[k + 1]), part, 1 / n);
      for (let i = 0; i < grad.length; i++) grad[i] += part[i];
    });
    const terms = lossTerms(cfg, plSum / n, { entSum, vlSum }, 1 / n);
    expect(terms.total).toBeCloseTo(whole.terms.total, 12);
    expect(terms.entropy).toBeCloseTo(whole.terms.entropy, 12);
    expect(relL2(grad, whole.grad)).toBeLessThan(1e-12);
    expect(relL2(grad.subarray(logStdOffset(spec)), whole.grad.subarray(logStdOffset(spec)))).toBeLessThan(1e-12);
  });
});
