/**
 * The training loss as a pure function of (parameters, minibatch), CleanRL-style:
 *   loss = policyLoss (THEORY.md section 1, with the configured weight g)
 *        + vfCoef * 0.5 * mean((V(s) - target)^2)
 *        - entCoef * mean entropy
 * and its gradient with respect to the one flat parameter vector. Because the loss is a mean
 * over samples, the gradient of a minibatch equals the average of the gradients of equal-size
 * shards: a multi-threaded learner can compute shards in workers and average them.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../model/spec.js';
import { entropyOfTf, logProbOf, tfForward } from '../model/tf.js';
import { policyLoss } from './objectives/tensor.js';
import type { Batch } from './batch.js';
import type { LearnerConfig } from './config.js';

export interface LossTerms {
  total: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
}

export interface LossAndGrad {
  /** d loss / d params, owned by the caller (dispose it). */
  grad: tf.Tensor1D;
  terms: LossTerms;
}

/** Loss terms and gradient of `mb` at `params`. Throws only on shape errors (a caller bug). */
export function lossAndGrad(spec: ModelSpec, cfg: LearnerConfig, params: tf.Tensor1D, mb: Batch): LossAndGrad {
  let result: LossAndGrad | null = null;
  tf.tidy(() => {
    const obs = tf.tensor2d(mb.obs, [mb.n, spec.obsDim]);
    const actions = tf.tensor1d(mb.actions, 'int32');
    const logmu = tf.tensor1d(mb.logmu);
    const adv = tf.tensor1d(mb.adv);
    const targets = tf.tensor1d(mb.targets);
    const parts: tf.Scalar[] = [];
    const f = (p: tf.Tensor): tf.Scalar => {
      const { logits, value } = tfForward(spec, p as tf.Tensor1D, obs);
      const logp = logProbOf(logits, actions, spec.nActions);
      const pl = policyLoss(cfg.objective, logp, logmu, adv).loss;
      const vl = tf.mul(0.5, tf.mean(tf.square(tf.sub(value, targets)))) as tf.Scalar;
      const ent = entropyOfTf(logits);
      parts.push(tf.keep(pl), tf.keep(vl), tf.keep(ent)); // read after the gradient scope, then disposed
      return tf.sub(tf.add(pl, tf.mul(cfg.vfCoef, vl)), tf.mul(cfg.entCoef, ent)) as tf.Scalar;
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
    result = { grad: tf.keep(grad as tf.Tensor1D), terms };
  });
  return result as unknown as LossAndGrad;
}
