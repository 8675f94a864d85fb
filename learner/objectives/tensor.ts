/**
 * The gradient weights of THEORY.md section 2 in batched tfjs form, for the learner. One call
 * builds L = -(1/N) sum sg[g_i] A_i logp_i from logp (differentiable), logmu and A (constants),
 * so that grad L = -(1/N) sum g_i A_i grad logp_i. The scalar form in `scalar.ts` is the
 * reference; the two agree to float32 precision on the golden vectors.
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveConfig } from './config.js';
import { gammaEss as gammaEssOf, LOG_RATIO_CLAMP } from './scalar.js';

/**
 * Stop-gradient: the identity in the forward pass, zero gradient in the backward pass.
 * tfjs 4.22 has no tf.stopGradient, and clone() keeps the tape, so it is a customGrad.
 */
export const stopGradient = tf.customGrad((...inputs) => ({
  value: (inputs[0] as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as <T extends tf.Tensor>(x: T) => T;

export interface PolicyLossOptions {
  /** v3.1's batch exponent; computed from this batch's w (with a read-back) when absent. */
  gammaEss?: number;
}

export interface PolicyLoss {
  /** -(1/N) sum sg[g] A logp; its gradient flows into logp only. */
  loss: tf.Scalar;
  /** The weights used (no gradient). */
  g: tf.Tensor1D;
  /** h(w) for v5 / v5-fixed, else null. */
  h: tf.Tensor1D | null;
  /** Per-sample gamma for v3.1 / v5 / v5-fixed, else null. */
  gamma: tf.Tensor1D | null;
  /** clamp(logp - logmu, -20, 20) (no gradient). */
  logRatio: tf.Tensor1D;
}

/** sech2 in the stable form 4 e^{-2|x|} / (1 + e^{-2|x|})^2. */
function sech2(x: tf.Tensor1D): tf.Tensor1D {
  const t = tf.exp(tf.mul(-2, tf.abs(x)));
  return tf.div(tf.mul(4, t), tf.square(tf.add(1, t)));
}

interface Weights {
  g: tf.Tensor1D;
  h: tf.Tensor1D | null;
  gamma: tf.Tensor1D | null;
}

function v5Family(cfg: ObjectiveConfig, logW: tf.Tensor1D, w: tf.Tensor1D, adv: tf.Tensor1D, gamma: tf.Tensor1D): Weights {
  const arg: tf.Tensor1D = cfg.trust === 'log' ? tf.mul(cfg.tauH / 2, logW) : tf.mul(cfg.tauH / 2, tf.sub(w, 1));
  const h = sech2(arg);
  let floor: tf.Tensor1D = tf.sub(1, gamma);
  if (cfg.sftTrust) floor = tf.mul(floor, h);
  if (cfg.floor === 'neg-is') floor = tf.mul(floor, tf.where(tf.less(adv, 0), tf.minimum(w, 1), tf.onesLike(w)) as tf.Tensor1D);
  return { g: tf.add(floor, tf.mul(gamma, tf.mul(w, h))), h, gamma };
}

function weights(cfg: ObjectiveConfig, logW: tf.Tensor1D, adv: tf.Tensor1D, gammaEss: number | undefined): Weights {
  const w = tf.exp(logW);
  const none = { h: null, gamma: null };
  const pWrong = (): tf.Tensor1D => tf.sigmoid(tf.div(tf.neg(tf.mul(adv, logW)), cfg.tauC));
  switch (cfg.method) {
    case 'sft':
      return { g: tf.onesLike(w), ...none };
    case 'is':
      return { g: w, ...none };
    case 'ppo': {
      // Compared in log space: w <= 1+eps <=> log w <= log(1+eps), so a ratio given exactly on
      // the clip boundary stays on it in float32.
      const zero = tf.zerosLike(w);
      const keepPos = tf.lessEqual(logW, Math.log(1 + cfg.eps));
      const keepNeg = tf.greaterEqual(logW, Math.log(1 - cfg.eps));
      const gPos = tf.where(keepPos, w, zero) as tf.Tensor1D;
      const gNeg = tf.where(keepNeg, w, zero) as tf.Tensor1D;
      return { g: tf.where(tf.greater(adv, 0), gPos, tf.where(tf.less(adv, 0), gNeg, w)) as tf.Tensor1D, ...none };
    }
    case 'cispo':
      return { g: tf.clipByValue(w, 1 - cfg.eps, 1 + cfg.eps), ...none };
    case 'vtrace':
      return { g: tf.minimum(w, cfg.rhoBar), ...none };
    case 'sapo': {
      const tau: tf.Tensor1D = tf.where(tf.greater(adv, 0), tf.fill(w.shape, cfg.tauPos), tf.fill(w.shape, cfg.tauNeg)) as tf.Tensor1D;
      return { g: tf.mul(w, sech2(tf.mul(tf.mul(tau, 0.5), tf.sub(w, 1)) as tf.Tensor1D)), ...none };
    }
    case 'v3.1': {
      // Reconstruction (see scalar.ts): gamma_i = gamma_ess * P_wrong, g = w^gamma_i.
      const ge = gammaEss ?? gammaEssOf(w.dataSync(), cfg.essMin);
      const gamma: tf.Tensor1D = tf.mul(ge, pWrong());
      return { g: tf.exp(tf.mul(gamma, logW)), h: null, gamma };
    }
    case 'v5': {
      const gamma: tf.Tensor1D = tf.add(cfg.gammaBase, tf.mul(cfg.gammaMax - cfg.gammaBase, pWrong()));
      return v5Family(cfg, logW, w, adv, gamma);
    }
    case 'v5-fixed':
      return v5Family(cfg, logW, w, adv, tf.fill(w.shape, cfg.gamma) as tf.Tensor1D);
  }
}

/**
 * Policy-gradient loss of `cfg.method` for a batch of N samples. `logp` must be
 * differentiable (computed from the parameters inside the gradient function); `logmu` and
 * `adv` are constants. Does not validate finiteness (use assertFiniteTensor where needed).
 * The returned tensors are owned by the caller (dispose them, or call inside tf.tidy).
 */
export function policyLoss(
  cfg: ObjectiveConfig,
  logp: tf.Tensor1D,
  logmu: tf.Tensor1D,
  adv: tf.Tensor1D,
  opts: PolicyLossOptions = {},
): PolicyLoss {
  const n = logp.shape[0];
  if (logmu.shape[0] !== n || adv.shape[0] !== n) {
    throw new Error(`policyLoss: logp has ${n} samples, logmu ${logmu.shape[0]}, adv ${adv.shape[0]}; they must match`);
  }
  // The weights are computed in the forward pass of a customGrad whose gradient is zero for
  // every input: ops run there are not taped, so the gradient flows only through the explicit
  // logp factor of the loss (THEORY.md section 1), and non-differentiable ops (comparisons in
  // ppo) never meet the backward pass. Rows: logRatio, g, h, gamma.
  let hasH = false;
  let hasGamma = false;
  const detached = tf.customGrad((...inputs) => {
    const [lp, lm, a] = inputs as tf.Tensor1D[];
    const value = tf.tidy(() => {
      const logRatio: tf.Tensor1D = tf.clipByValue(tf.sub(lp, lm), -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
      const wts = weights(cfg, logRatio, a, opts.gammaEss);
      hasH = wts.h !== null;
      hasGamma = wts.gamma !== null;
      const zero = tf.zerosLike(logRatio);
      return tf.stack([logRatio, wts.g, wts.h ?? zero, wts.gamma ?? zero]);
    });
    return { value, gradFunc: () => [tf.zerosLike(lp), tf.zerosLike(lm), tf.zerosLike(a)] };
  });
  const stacked = detached(logp, logmu, adv);
  const [logRatio, g, h, gamma] = tf.unstack(stacked) as tf.Tensor1D[];
  stacked.dispose();
  if (!hasH) h.dispose();
  if (!hasGamma) gamma.dispose();
  const loss = tf.tidy(() => tf.neg(tf.div(tf.sum(tf.mul(tf.mul(g, adv), logp)), n)) as tf.Scalar);
  return { loss, g, h: hasH ? h : null, gamma: hasGamma ? gamma : null, logRatio };
}
