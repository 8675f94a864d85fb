/**
 * The training loss as a pure function of (parameters, minibatch), CleanRL-style:
 *   loss = -(1/N) sum sg[g_i] A_i logp_i      (docs/METHODS.md section 1)
 *        + vfCoef * 0.5 * mean((V(s) - target)^2)
 *        - entCoef * mean entropy
 * and its gradient with respect to the one flat parameter vector by tfjs autodiff (`--grad
 * tfjs`; the default float64 path is learner/lossJs.ts). g is data, not a tensor expression:
 * logp is computed forward, read back, and g computed once in float64 by `computeWeights`
 * (learner/objectives, the same implementation the js path uses), then fed to the loss as a
 * constant, so the gradient flows through logp only. logp and the entropy are the spec's head's
 * (model/distributions.ts `logProbTf`, `entropyTf`; a Gaussian's through its log standard
 * deviations, the last nActions params). Needs `initBackend` first.
 */
import type * as TF from '@tensorflow/tfjs-core';
import { tfjs } from '../model/backend.js';
import type { ModelSpec } from '../model/spec.js';
import { distributionOf } from '../model/distributions.js';
import { tfForward } from '../model/tf.js';
import type { ObjectiveConfig } from '../protocol/objectiveConfig.js';
import { computeWeights, WeightBatch } from './objectives/weights.js';
import type { Batch } from './batch.js';
import { responseMeanLogRatio } from './advantages.js';
import type { LearnerConfig } from './config.js';

export interface LossTerms {
  total: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
}

export interface LossAndGrad {
  /** d loss / d params, owned by the caller (dispose it). */
  grad: TF.Tensor1D;
  terms: LossTerms;
  /** The weights used (`wts`). */
  weights: WeightBatch;
}

/**
 * The policy term -(1/N) sum sg[g_i] A_i logp_i for differentiable `logp` (N samples): reads
 * logp back, computes log w = logp - logmu and g with `computeWeights` into `wts` (v3.1:
 * gamma_ess from this batch unless `gammaEss` is given), and returns sum(c * logp) with the
 * constant c = -g A / N.
 * Its gradient is d/d logp_i = -(1/N) g_i A_i. Leaves only the returned scalar behind.
 */
export function policyLossTf(
  cfg: ObjectiveConfig,
  logp: TF.Tensor1D,
  logmu: Float32Array | Float64Array,
  adv: Float32Array | Float64Array,
  wts = new WeightBatch(),
  gammaEss?: number,
  response?: Int32Array,
): TF.Scalar {
  const tf = tfjs();
  const n = logp.shape[0];
  if (logmu.length < n || adv.length < n)
    throw new RangeError(`policyLossTf: logp has ${n} samples, logmu ${logmu.length}, adv ${adv.length}`);
  const lp = logp.dataSync();
  const logRatio = wts.input(n);
  for (let i = 0; i < n; i++) logRatio[i] = lp[i] - logmu[i];
  if (response) responseMeanLogRatio(logRatio, response, n); // --ratio sequence
  const g = computeWeights(cfg, logRatio, adv, { n, out: wts, ...(gammaEss === undefined ? {} : { gammaEss }) }).g;
  const c = new Float32Array(n);
  for (let i = 0; i < n; i++) c[i] = (-g[i] * adv[i]) / n;
  return tf.tidy(() => tf.sum(tf.mul(tf.tensor1d(c), logp)));
}

/** Loss terms and gradient of `mb` at `params`; the weights go into `wts`. Throws only on shape errors (a caller bug). */
export function lossAndGrad(spec: ModelSpec, cfg: LearnerConfig, params: TF.Tensor1D, mb: Batch, wts = new WeightBatch()): LossAndGrad {
  const tf = tfjs();
  let result: LossAndGrad | null = null;
  tf.tidy(() => {
    const obs = tf.tensor2d(mb.obs, [mb.n, spec.obsDim]);
    const head = distributionOf(spec);
    const actions = head.actionsTensor(head.actionsOf(mb, mb.n), mb.n);
    const targets = tf.tensor1d(mb.targets);
    const parts: TF.Scalar[] = [];
    const f = (p: TF.Tensor): TF.Scalar => {
      const { logits, value } = tfForward(spec, p as TF.Tensor1D, obs);
      const logp = head.logProbTf(logits, p as TF.Tensor1D, actions);
      const pl = policyLossTf(cfg.objective, logp, mb.logmu, mb.adv, wts, undefined, mb.response);
      const vl = tf.mul(0.5, tf.mean(tf.square(tf.sub(value, targets)))) as TF.Scalar;
      const ent = head.entropyTf(logits, p as TF.Tensor1D);
      parts.push(tf.keep(pl), tf.keep(vl), tf.keep(ent)); // read after the gradient scope, then disposed
      return tf.sub(tf.add(pl, tf.mul(cfg.vfCoef, vl)), tf.mul(cfg.entCoef, ent)) as TF.Scalar;
    };
    const { value, grad } = tf.valueAndGrad(f)(params);
    const [pl, vl, ent] = parts;
    const terms: LossTerms = {
      total: value.dataSync()[0],
      policyLoss: pl.dataSync()[0],
      valueLoss: vl.dataSync()[0],
      entropy: ent.dataSync()[0],
    };
    for (const t of parts) t.dispose();
    result = { grad: tf.keep(grad as TF.Tensor1D), terms, weights: wts };
  });
  return result as unknown as LossAndGrad;
}
