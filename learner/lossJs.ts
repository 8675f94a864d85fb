/**
 * The training loss of learner/loss.ts, computed in float64 plain JavaScript with the
 * hand-written backward pass of model/grad.ts instead of tfjs autodiff:
 *   loss = -(1/N) sum sg[g_i] A_i logp_i                (docs/METHODS.md section 1)
 *        + vfCoef * 0.5 * mean((V(s) - target)^2)
 *        - entCoef * mean entropy
 * g is data: computed once per minibatch by `computeWeights` (learner/objectives, the one
 * implementation of docs/METHODS.md section 2) from log w = logp - logmu, then the policy term's
 * gradient is -(1/N) g A d logp / d outputs. logp, the entropy and their gradients come from
 * the spec's head (model/distributions.ts: categorical, diagonal Gaussian), the same for every
 * head here and in the gradient shards (learner/gradWorker.ts). Hot path: never throws on bad
 * numbers; a non-finite input, output or gradient yields terms.total = NaN and the caller
 * skips the step.
 */
import type { ModelSpec } from '../model/spec.js';
import { distributionOf } from '../model/distributions.js';
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
 * First half of the loss: the forward pass over the n rows of `mb` at `params`, the head's
 * log-probability and entropy (model/distributions.ts) and the value loss; writes
 * log w = logp - logmu into `logRatioOut` (length >= n) and d loss / d policy output and
 * d loss / d head params of the entropy term and d loss / d values into ws, each scaled by
 * `invN` (1 / the size of the whole minibatch, so that shards of one minibatch add up). Returns
 * null when obs, logmu, adv or targets hold a NaN or infinity or a policy output, head
 * parameter or value is not finite; throws only on shape errors (a caller bug). Then
 * `computeWeights` on the whole minibatch's log w, then `lossBackwardJs` with g.
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
  const head = distributionOf(spec);
  if (mb.logmu.length < n || mb.adv.length < n || mb.targets.length < n) {
    throw new RangeError(`minibatch of ${n} rows has fewer logmu, adv or targets`);
  }
  const actions = head.actionsOf(mb, n);
  forwardTrain(spec, params, mb.obs, n, ws);
  const out = ws.logits;
  const values = ws.values;
  const dOut = ws.dLogits;
  const dValues = ws.dValues;
  const norms = ws.rowLse;
  const dHead = ws.dHead;
  dHead.fill(0);

  // log-probability, entropy, log w, the value loss; d loss / d outputs from the entropy term
  // (the policy term is added by lossBackwardJs).
  let entSum = 0;
  let vlSum = 0;
  const entScale = cfg.entCoef * invN;
  for (let r = 0; r < n; r++) {
    const norm = head.normalizer(out, r, params);
    if (!Number.isFinite(norm)) return null; // a NaN or +/-Infinity output or head parameter
    const H = head.entropy(out, r, params, norm);
    head.entropyGrad(out, r, params, norm, H, entScale, dOut, dHead); // the loss carries -entCoef * mean H
    entSum += H;
    norms[r] = norm;
    head.checkAction(actions, r);
    const lr = head.logProb(out, r, params, actions, norm) - mb.logmu[r];
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
 * term -invN sum g A logp to d loss / d outputs and d loss / d head params (g: the weights of
 * these n rows, data) and runs the backward pass into `grad` (paramCount, overwritten).
 * Returns sum_r g_r A_r logp_r, or NaN when an element of the gradient is not finite
 * (`checkFinite` false: not checked, for a caller that checks the summed gradient instead).
 */
export function lossBackwardJs(
  spec: ModelSpec,
  params: Float64Array,
  mb: Batch,
  ws: Workspace,
  g: ArrayLike<number>,
  grad: Float64Array,
  invN = 1 / mb.n,
  checkFinite = true,
): number {
  const n = mb.n;
  const head = distributionOf(spec);
  const actions = head.actionsOf(mb, n);
  const out = ws.logits;
  const dOut = ws.dLogits;
  const norms = ws.rowLse;
  const dHead = ws.dHead;
  let plSum = 0;
  for (let r = 0; r < n; r++) {
    const norm = norms[r];
    const c = g[r] * mb.adv[r];
    plSum += c * head.logProb(out, r, params, actions, norm);
    head.logProbGrad(out, r, params, actions, norm, -c * invN, dOut, dHead);
  }
  backward(spec, params, ws, dOut, ws.dValues, grad);
  for (let j = 0; j < head.nParams; j++) grad[head.paramOffset + j] = dHead[j];
  if (!checkFinite) return plSum;
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
 * (learner/threads.ts runs them on shards of a minibatch in worker threads). `gradOut`: where
 * the gradient goes (default ws.grad); `checkFinite` false: a non-finite gradient element is
 * not looked for (the learner threads find it in the norm of the summed gradient).
 */
export function lossAndGradJs(
  spec: ModelSpec,
  cfg: LearnerConfig,
  params: Float64Array,
  mb: Batch,
  ws: Workspace,
  wts = new WeightBatch(),
  gradOut: Float64Array = ws.grad,
  checkFinite = true,
): LossAndGradJs {
  const n = mb.n;
  const invN = 1 / n;
  const logRatio = wts.input(n);
  const sums = lossForwardJs(spec, cfg, params, mb, ws, logRatio, invN);
  if (sums === null) return nanResult(ws);
  // --ratio sequence: each token takes its response's mean log-ratio (rows of one response are together).
  if (mb.response) responseMeanLogRatio(logRatio, mb.response, n);
  // The weights, once, as data (v3.1: gamma_ess from this minibatch's w).
  const g = computeWeights(cfg.objective, logRatio, mb.adv, { n, out: wts }).g;
  const plSum = lossBackwardJs(spec, params, mb, ws, g, gradOut, invN, checkFinite);
  if (Number.isNaN(plSum)) return nanResult(ws);
  return { grad: gradOut, terms: lossTerms(cfg, plSum * invN, sums, invN), weights: wts };
}

/** The loss terms from the sums of a minibatch (plMean = invN sum g A logp). */
export function lossTerms(cfg: LearnerConfig, plMean: number, sums: LossForwardSums, invN: number): LossTerms {
  const policyLoss = -plMean;
  const valueLoss = 0.5 * sums.vlSum * invN;
  const entropy = sums.entSum * invN;
  const total = policyLoss + cfg.vfCoef * valueLoss - cfg.entCoef * entropy;
  return { total, policyLoss, valueLoss, entropy };
}
