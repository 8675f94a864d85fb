/**
 * The training loss of learner/loss.ts, computed in float64 plain JavaScript with the
 * hand-written backward pass of model/grad.ts instead of tfjs autodiff:
 *   loss = -(1/N) sum sg[g_i] A_i logp_i                (docs/METHODS.md section 1)
 *        + vfCoef * 0.5 * mean((V(s) - target)^2)
 *        - entCoef * mean entropy
 * g is data: computed once per minibatch by `computeWeights` (learner/objectives, the one
 * implementation of docs/METHODS.md section 2) from log w = logp - logmu, then the policy term's
 * gradient is d loss / d z_k = -(1/N) g A (onehot_k - p_k). With a Gaussian head (continuous
 * actions) logp is the diagonal Gaussian's log-density of the box action, and
 * d logp / d mean_j = (a_j - mean_j) / sigma_j^2, d logp / d logstd_j = z_j^2 - 1 (z = (a - mean)
 * / sigma), d entropy / d logstd_j = 1. Hot path: never throws on bad
 * numbers; a non-finite input, output or gradient yields terms.total = NaN and the caller
 * skips the step.
 */
import { headOf, type ModelSpec } from '../model/spec.js';
import { gaussianEntropy, gaussianLogProb, logSumExp, rowEntropy } from '../model/forward.js';
import { logStdOffset } from '../model/params.js';
import { backward, forwardTrain, type Workspace } from '../model/grad.js';
import { computeWeights, WeightBatch } from './objectives/weights.js';
import type { Batch } from './batch.js';
import { responseMeanLogRatio } from './advantages.js';
import type { LearnerConfig } from './config.js';
import type { LossTerms } from './loss.js';

/** Result of `lossAndGradJs`; `grad` is ws.grad, overwritten by the next call on ws. */
export interface LossAndGradJs {
  grad: Float64Array;
  terms: LossTerms;
  /** The weights used (`wts`), or null when the minibatch was rejected before computing them. */
  weights: WeightBatch | null;
}

function nanResult(ws: Workspace): LossAndGradJs {
  return { grad: ws.grad, terms: { total: NaN, policyLoss: NaN, valueLoss: NaN, entropy: NaN }, weights: null };
}

/** Sums of the first pass over rows of a minibatch (`lossForwardJs`), or null when a number was not finite. */
export interface LossForwardSums {
  /** Sum of the policy entropies (nats). */
  entSum: number;
  /** Sum of the squared value errors. */
  vlSum: number;
}

/**
 * First half of the loss: the forward pass over the n rows of `mb` at `params`, log-softmax,
 * entropy and the value loss; writes log w = logp - logmu into `logRatioOut` (length >= n)
 * and d loss / d logits of the entropy term and d loss / d values into ws, each scaled by
 * `invN` (1 / the size of the whole minibatch, so that shards of one minibatch add up). Returns
 * null when obs, logmu, adv or targets hold a NaN or infinity or a logit or value is not
 * finite; throws only on shape errors (a caller bug). Then `computeWeights` on the whole
 * minibatch's log w, then `lossBackwardJs` with g.
 */
export function lossForwardJs(
  spec: ModelSpec,
  cfg: LearnerConfig,
  params: Float64Array,
  mb: Batch,
  ws: Workspace,
  logRatioOut: Float64Array,
  invN = 1 / mb.n,
): LossForwardSums | null {
  const n = mb.n;
  const nA = spec.nActions;
  if (mb.actions.length < n || mb.logmu.length < n || mb.adv.length < n || mb.targets.length < n) {
    throw new RangeError(`minibatch of ${n} rows has fewer actions, logmu, adv or targets`);
  }
  forwardTrain(spec, params, mb.obs, n, ws);
  const logits = ws.logits;
  const values = ws.values;
  const dLogits = ws.dLogits;
  const dValues = ws.dValues;
  const rowLse = ws.rowLse;

  // log-softmax, entropy, log w, the value loss; d loss / d logits from the entropy term (the
  // policy term is added by lossBackwardJs).
  let entSum = 0;
  let vlSum = 0;
  const entScale = cfg.entCoef * invN;
  for (let r = 0; r < n; r++) {
    const o = r * nA;
    const lse = logSumExp(logits, o, nA);
    if (!Number.isFinite(lse)) return null; // a NaN or +/-Infinity logit
    const H = rowEntropy(logits, o, nA, lse);
    // dH/dz_k = -p_k (log p_k + H); the loss carries -entCoef * mean H.
    for (let k = 0; k < nA; k++) {
      const lp = logits[o + k] - lse;
      dLogits[o + k] = entScale * Math.exp(lp) * (lp + H);
    }
    entSum += H;
    rowLse[r] = lse;
    const a = mb.actions[r];
    if (!(a >= 0 && a < nA)) throw new RangeError(`actions[${r}] = ${a}: expected an integer in [0, ${nA})`);
    const lr = logits[o + a] - lse - mb.logmu[r];
    if (!Number.isFinite(lr) || !Number.isFinite(mb.adv[r])) return null;
    logRatioOut[r] = lr;
    const dv = values[r] - mb.targets[r];
    if (!Number.isFinite(dv)) return null;
    vlSum += dv * dv;
    dValues[r] = cfg.vfCoef * dv * invN;
  }
  return { entSum, vlSum };
}

/**
 * Second half of the loss, after `lossForwardJs` on the same ws and params: adds the policy
 * term -invN sum g A logp to d loss / d logits (g: the weights of these n rows, data) and runs
 * the backward pass into `grad` (paramCount, overwritten). Returns sum_r g_r A_r logp_r, or
 * NaN when an element of the gradient is not finite.
 */
export function lossBackwardJs(
  spec: ModelSpec,
  params: Float64Array,
  mb: Batch,
  ws: Workspace,
  g: ArrayLike<number>,
  grad: Float64Array,
  invN = 1 / mb.n,
): number {
  const n = mb.n;
  const nA = spec.nActions;
  const logits = ws.logits;
  const dLogits = ws.dLogits;
  const rowLse = ws.rowLse;
  // d/dz_k of -invN g A logp_a = -invN g A (onehot_k - p_k).
  let plSum = 0;
  for (let r = 0; r < n; r++) {
    const o = r * nA;
    const lse = rowLse[r];
    const a = mb.actions[r];
    const c = g[r] * mb.adv[r];
    plSum += c * (logits[o + a] - lse);
    const s = -c * invN;
    for (let k = 0; k < nA; k++) dLogits[o + k] -= s * Math.exp(logits[o + k] - lse);
    dLogits[o + a] += s;
  }
  backward(spec, params, ws, dLogits, ws.dValues, grad);
  let bad = 0; // x - x is NaN exactly when x is NaN or infinite
  for (let i = 0; i < grad.length; i++) bad += grad[i] - grad[i];
  return bad === 0 ? plSum : NaN;
}

/**
 * Loss terms and d loss / d params of minibatch `mb` at `params` (Float64Array in the flat
 * layout of model/params.ts). Equals learner/loss.ts `lossAndGrad` up to float32 rounding.
 * The weights are written into `wts` (v3.1's gamma_ess from this minibatch's w). Returns
 * terms.total = NaN (every term NaN, grad unspecified) when obs, logmu, adv or targets hold
 * a NaN or infinity, or any logit, value or gradient element is not finite; throws only on
 * shape errors (a caller bug). The two halves are `lossForwardJs` and `lossBackwardJs`
 * (learner/threads.ts runs them on shards of a minibatch in worker threads).
 */
export function lossAndGradJs(
  spec: ModelSpec,
  cfg: LearnerConfig,
  params: Float64Array,
  mb: Batch,
  ws: Workspace,
  wts = new WeightBatch(),
): LossAndGradJs {
  if (headOf(spec) === 'gaussian') return lossAndGradGaussian(spec, cfg, params, mb, ws, wts);
  const n = mb.n;
  const invN = 1 / n;
  const logRatio = wts.input(n);
  const sums = lossForwardJs(spec, cfg, params, mb, ws, logRatio, invN);
  if (sums === null) return nanResult(ws);
  // --ratio sequence: each token takes its response's mean log-ratio (rows of one response are together).
  if (mb.response) responseMeanLogRatio(logRatio, mb.response, n);
  // The weights, once, as data (v3.1: gamma_ess from this minibatch's w).
  const g = computeWeights(cfg.objective, logRatio, mb.adv, { n, out: wts }).g;
  const plSum = lossBackwardJs(spec, params, mb, ws, g, ws.grad, invN);
  if (Number.isNaN(plSum)) return nanResult(ws);
  return { grad: ws.grad, terms: lossTerms(cfg, plSum * invN, sums, invN), weights: wts };
}

/** The loss terms from the sums of a minibatch (plMean = invN sum g A logp). */
export function lossTerms(cfg: LearnerConfig, plMean: number, sums: LossForwardSums, invN: number): LossTerms {
  const policyLoss = -plMean;
  const valueLoss = 0.5 * sums.vlSum * invN;
  const entropy = sums.entSum * invN;
  const total = policyLoss + cfg.vfCoef * valueLoss - cfg.entCoef * entropy;
  return { total, policyLoss, valueLoss, entropy };
}

/** finite check of the gradient, then the result (or the NaN result). */
function finish(
  ws: Workspace,
  wts: WeightBatch,
  cfg: LearnerConfig,
  plSum: number,
  vlSum: number,
  entSum: number,
  n: number,
): LossAndGradJs {
  const grad = ws.grad;
  let bad = 0; // x - x is NaN exactly when x is NaN or infinite
  for (let i = 0; i < grad.length; i++) bad += grad[i] - grad[i];
  if (bad !== 0) return nanResult(ws);
  const policyLoss = -plSum / n;
  const valueLoss = (0.5 * vlSum) / n;
  const entropy = entSum / n;
  const total = policyLoss + cfg.vfCoef * valueLoss - cfg.entCoef * entropy;
  return { grad, terms: { total, policyLoss, valueLoss, entropy }, weights: wts };
}

/**
 * `lossAndGradJs` for a Gaussian head: the policy network's output is the mean (n x A), the
 * log standard deviations are the last A params, actions are mb.boxActions (n x A, unclipped).
 */
function lossAndGradGaussian(
  spec: ModelSpec,
  cfg: LearnerConfig,
  params: Float64Array,
  mb: Batch,
  ws: Workspace,
  wts: WeightBatch,
): LossAndGradJs {
  const n = mb.n;
  const A = spec.nActions;
  const box = mb.boxActions;
  if (box === undefined || box.length < n * A || mb.logmu.length < n || mb.adv.length < n || mb.targets.length < n) {
    throw new RangeError(`minibatch of ${n} rows needs ${n * A} box actions (got ${box?.length ?? 'none'}) and n logmu, adv, targets`);
  }
  forwardTrain(spec, params, mb.obs, n, ws);
  const mean = ws.logits;
  const values = ws.values;
  const dMean = ws.dLogits;
  const dValues = ws.dValues;
  const logp = ws.rowLse; // per-row scratch: log pi(a|s)
  const so = logStdOffset(spec);
  const logRatio = wts.input(n);
  const invN = 1 / n;
  for (let j = 0; j < A; j++) if (!Number.isFinite(params[so + j])) return nanResult(ws);
  const H = gaussianEntropy(params, so, A);

  let vlSum = 0;
  for (let r = 0; r < n; r++) {
    const lp = gaussianLogProb(box, mean, r * A, params, so, A);
    const lr = lp - mb.logmu[r];
    if (!Number.isFinite(lr) || !Number.isFinite(mb.adv[r])) return nanResult(ws);
    logp[r] = lp;
    logRatio[r] = lr;
    const dv = values[r] - mb.targets[r];
    if (!Number.isFinite(dv)) return nanResult(ws);
    vlSum += dv * dv;
    dValues[r] = cfg.vfCoef * dv * invN;
  }

  const g = computeWeights(cfg.objective, logRatio, mb.adv, { n, out: wts }).g;

  // Policy loss -(1/N) sum c logp with c = g A: d/d mean = -(c/N) (a - mean) / sigma^2;
  // d/d logstd_j = -(1/N) sum_r c_r (z^2 - 1), and -entCoef from the entropy bonus.
  let plSum = 0;
  const dLogStd = new Float64Array(A);
  for (let j = 0; j < A; j++) dLogStd[j] = -cfg.entCoef;
  for (let r = 0; r < n; r++) {
    const c = g[r] * mb.adv[r];
    plSum += c * logp[r];
    const s = -c * invN;
    const o = r * A;
    for (let j = 0; j < A; j++) {
      const inv = Math.exp(-params[so + j]);
      const z = (box[o + j] - mean[o + j]) * inv;
      dMean[o + j] = s * z * inv;
      dLogStd[j] += s * (z * z - 1);
    }
  }

  backward(spec, params, ws, dMean, dValues, ws.grad);
  for (let j = 0; j < A; j++) ws.grad[so + j] = dLogStd[j];
  return finish(ws, wts, cfg, plSum, vlSum, H * n, n);
}
