import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { policyLogits } from '../../../model/forward.js';
import { logSumExp } from '../../../model/distributions.js';
import { backward, forwardTrain, Workspace } from '../../../model/grad.js';
import { initParams, paramCount } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';
import type { ModelSpec } from '../../../model/spec.js';
import type { Batch } from '../../../learner/batch.js';
import type { LearnerConfig } from '../../../learner/config.js';
import { lossAndGrad } from '../../../learner/loss.js';
import { lossAndGradJs } from '../../../learner/lossJs.js';
import { DEFAULT_OBJECTIVE, METHODS, type ObjectiveConfig } from '../../../protocol/objectiveConfig.js';
import { learnerConfig } from './fakes.js';
import { expectFiniteDifferenceGradient } from './gradCheck.js';

const specs: ModelSpec[] = [
  { obsDim: 4, nActions: 2, hidden: [64, 64] },
  { obsDim: 5, nActions: 3, hidden: [16, 8] },
];

/** The loss's hyperparameters with `objective` (one epoch, one minibatch, GAE). */
function lossConfig(objective: ObjectiveConfig): LearnerConfig {
  return learnerConfig({ objective, advantage: 'gae', epochs: 1, minibatches: 1, steps: 1 });
}

const objectives: [string, ObjectiveConfig][] = [
  ...METHODS.map((m): [string, ObjectiveConfig] => [m, { ...DEFAULT_OBJECTIVE, method: m }]),
  ['v5 floor=neg-is trust=log', { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'neg-is', trust: 'log' }],
  ['v5-fixed sft-trust', { ...DEFAULT_OBJECTIVE, method: 'v5-fixed', sftTrust: true }],
  ['v5 floor=max1', { ...DEFAULT_OBJECTIVE, method: 'v5', floor: 'max1' }],
  ['v5-fixed floor=max1 sft-trust', { ...DEFAULT_OBJECTIVE, method: 'v5-fixed', floor: 'max1', sftTrust: true }],
];

/** CleanRL init plus noise (float32, as the wire carries it), so logits are far from uniform. */
function randomParams(spec: ModelSpec, seed: number): Float32Array {
  const p = initParams(spec, seed);
  const r = new Rng(seed + 100);
  for (let i = 0; i < p.length; i++) p[i] += Math.fround(0.2 * r.normal());
  return p;
}

/** A minibatch whose logmu is the current log-prob minus noise, so w = e^u, u ~ U[log 0.3, log 3]. */
function randomBatch(spec: ModelSpec, params: Float32Array, n: number, seed: number): Batch {
  const rng = new Rng(seed);
  const obs = Float32Array.from({ length: n * spec.obsDim }, () => 1.5 * rng.normal());
  const actions = Int32Array.from({ length: n }, () => rng.int(spec.nActions));
  const logits = policyLogits(spec, params, obs, n);
  const logmu = new Float32Array(n);
  const lo = Math.log(0.3),
    hi = Math.log(3);
  for (let i = 0; i < n; i++)
    logmu[i] =
      logits[i * spec.nActions + actions[i]] - logSumExp(logits, i * spec.nActions, spec.nActions) - (lo + (hi - lo) * rng.uniform());
  const adv = Float32Array.from({ length: n }, () => rng.normal());
  const targets = Float32Array.from({ length: n }, () => rng.normal());
  return { n, obs, actions, logmu, adv, targets, lag: new Int32Array(n), logRatio: new Float64Array(n), entropy: 0 };
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

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`lossAndGradJs equals tfjs lossAndGrad (${backend})`, () => {
    for (const [name, objective] of objectives) {
      it(name, async () => {
        await initBackend(backend);
        expect(tf.getBackend()).toBe(backend);
        const cfg = lossConfig(objective);
        for (const [si, spec] of specs.entries()) {
          const params = randomParams(spec, 7 + si);
          const ws = new Workspace(spec, 16); // too small on purpose: lossAndGradJs grows it
          for (const n of [256, 37]) {
            const mb = randomBatch(spec, params, n, 11 * n + si);
            const js = lossAndGradJs(spec, cfg, Float64Array.from(params), mb, ws);
            const p = tf.tensor1d(params);
            const r = lossAndGrad(spec, cfg, p, mb);
            const ref = { grad: r.grad.dataSync().slice(), terms: r.terms };
            r.grad.dispose();
            p.dispose();
            let gNorm = 0;
            for (const v of ref.grad) gNorm += v * v;
            expect(Math.sqrt(gNorm), 'reference gradient must be non-trivial').toBeGreaterThan(1e-3);
            expect(relL2(js.grad, ref.grad), `${spec.hidden} n=${n} grad`).toBeLessThanOrEqual(1e-4);
            for (const k of ['total', 'policyLoss', 'valueLoss', 'entropy'] as const) {
              // Relative to max(|ref|, 1e-2): a policy loss can sit near 0 by cancellation.
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

describe('backward (float64 finite differences)', () => {
  const spec: ModelSpec = { obsDim: 3, nActions: 3, hidden: [3, 3] };
  const n = 5;
  const rng = new Rng(3);
  const params = Float64Array.from({ length: paramCount(spec) }, () => 0.8 * rng.normal());
  const obs = Float32Array.from({ length: n * spec.obsDim }, () => rng.normal());

  it('d(sum cL*logits + sum cV*values)/dparams matches central differences to 1e-6', () => {
    const cL = Float64Array.from({ length: n * spec.nActions }, () => rng.normal());
    const cV = Float64Array.from({ length: n }, () => rng.normal());
    const ws = new Workspace(spec, n);
    const f = (p: Float64Array): number => {
      forwardTrain(spec, p, obs, n, ws);
      let s = 0;
      for (let i = 0; i < cL.length; i++) s += cL[i] * ws.logits[i];
      for (let i = 0; i < n; i++) s += cV[i] * ws.values[i];
      return s;
    };
    f(params);
    const grad = new Float64Array(params.length).fill(123); // overwritten, not accumulated
    backward(spec, params, ws, cL, cV, grad);
    expectFiniteDifferenceGradient(f, params, grad);
  });

  it('the whole sft loss (g = 1, so no stop-gradient) matches central differences to 1e-6', () => {
    const cfg = { ...lossConfig({ ...DEFAULT_OBJECTIVE, method: 'sft' }), entCoef: 0.3 };
    const mb: Batch = {
      n,
      obs,
      actions: Int32Array.from({ length: n }, (_, i) => i % 3),
      logmu: new Float32Array(n).fill(-1),
      adv: Float32Array.from({ length: n }, () => rng.normal()),
      targets: Float32Array.from({ length: n }, () => rng.normal()),
      lag: new Int32Array(n),
      logRatio: new Float64Array(n),
      entropy: 0,
    };
    const ws = new Workspace(spec, n);
    const grad = lossAndGradJs(spec, cfg, params, mb, ws).grad.slice();
    expectFiniteDifferenceGradient((p) => lossAndGradJs(spec, cfg, p, mb, ws).terms.total, params, grad);
  });
});

describe('non-finite input', () => {
  const spec = specs[1];
  const params = Float64Array.from(randomParams(spec, 5));
  const cfg = lossConfig({ ...DEFAULT_OBJECTIVE, method: 'v3.1' });
  const cases: [string, (mb: Batch) => void][] = [
    [
      'NaN in obs',
      (mb) => {
        mb.obs[7] = NaN;
      },
    ],
    [
      'Infinity in obs',
      (mb) => {
        mb.obs[0] = Infinity;
      },
    ],
    [
      'NaN in logmu',
      (mb) => {
        mb.logmu[3] = NaN;
      },
    ],
    [
      '-Infinity in adv',
      (mb) => {
        mb.adv[2] = -Infinity;
      },
    ],
    [
      'NaN in targets',
      (mb) => {
        mb.targets[1] = NaN;
      },
    ],
  ];
  for (const [name, spoil] of cases) {
    it(`${name} yields terms.total NaN, not a throw`, () => {
      const ws = new Workspace(spec, 8);
      const mb = randomBatch(spec, Float32Array.from(params), 8, 1);
      expect(Number.isFinite(lossAndGradJs(spec, cfg, params, mb, ws).terms.total)).toBe(true);
      spoil(mb);
      expect(Number.isNaN(lossAndGradJs(spec, cfg, params, mb, ws).terms.total)).toBe(true);
    });
  }
});
