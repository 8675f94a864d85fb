/**
 * The training loss of learner/loss.ts, computed in float64 plain JavaScript with the
 * hand-written backward pass of model/grad.ts instead of tfjs autodiff:
 *   loss = -(1/N) sum sg[g_i] A_i logp_i                (THEORY.md section 1)
 *        + vfCoef * 0.5 * mean((V(s) - target)^2)
 *        - entCoef * mean entropy
 * with g_i from the scalar objective library (learner/objectives/scalar.ts), so the weights are
 * by construction those of THEORY.md section 2. Hot path: never throws on bad numbers; a
 * non-finite input, output or gradient yields terms.total = NaN and the caller skips the step.
 */
import type { ModelSpec } from '../model/spec.js';
import { backward, forwardTrain, type Workspace } from '../model/grad.js';
import { gammaEss, LOG_RATIO_CLAMP, weightFromLogRatio } from './objectives/scalar.js';
import type { Batch } from './batch.js';
import type { LearnerConfig } from './config.js';
import type { LossTerms } from './loss.js';

/** Result of `lossAndGradJs`; `grad` is ws.grad, overwritten by the next call on ws. */
export interface LossAndGradJs {
  grad: Float64Array;
  terms: LossTerms;
}

function nanResult(ws: Workspace): LossAndGradJs {
  return { grad: ws.grad, terms: { total: NaN, policyLoss: NaN, valueLoss: NaN, entropy: NaN } };
}

/**
 * Loss terms and d loss / d params of minibatch `mb` at `params` (Float64Array in the flat
 * layout of model/params.ts). Equals learner/loss.ts `lossAndGrad` up to float32 rounding.
 * v3.1's gamma_ess is computed from this minibatch's w, as the tensor form does. Returns
 * terms.total = NaN (every term NaN, grad unspecified) when obs, logmu, adv or targets hold
 * a NaN or infinity, or any logit, value or gradient element is not finite; throws only on
 * shape errors (a caller bug).
 */
export function lossAndGradJs(spec: ModelSpec, cfg: LearnerConfig, params: Float64Array, mb: Batch, ws: Workspace): LossAndGradJs {
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
  const rowW = ws.rowW;
  const rowLogp = ws.rowLogp;
  const obj = cfg.objective;
  const invN = 1 / n;

  // Pass 1: log-softmax, entropy, log w (clamped), the value loss; d loss / d logits from the
  // entropy term (the policy term is added in pass 2).
  let entSum = 0;
  let vlSum = 0;
  const entScale = cfg.entCoef * invN;
  for (let r = 0; r < n; r++) {
    const o = r * nA;
    let max = -Infinity;
    for (let k = 0; k < nA; k++) if (logits[o + k] > max) max = logits[o + k];
    if (!Number.isFinite(max)) return nanResult(ws);
    let z = 0;
    for (let k = 0; k < nA; k++) z += Math.exp(logits[o + k] - max);
    const lse = max + Math.log(z);
    let H = 0;
    for (let k = 0; k < nA; k++) {
      const lp = logits[o + k] - lse;
      if (!Number.isFinite(lp)) return nanResult(ws); // a +/-Infinity logit
      H -= Math.exp(lp) * lp;
    }
    // dH/dz_k = -p_k (log p_k + H); the loss carries -entCoef * mean H.
    for (let k = 0; k < nA; k++) {
      const lp = logits[o + k] - lse;
      dLogits[o + k] = entScale * Math.exp(lp) * (lp + H);
    }
    entSum += H;
    const a = mb.actions[r];
    if (!(a >= 0 && a < nA)) throw new RangeError(`actions[${r}] = ${a}: expected an integer in [0, ${nA})`);
    const logp = logits[o + a] - lse;
    const lr = logp - mb.logmu[r];
    if (!Number.isFinite(lr) || !Number.isFinite(mb.adv[r])) return nanResult(ws);
    rowW[r] = Math.min(LOG_RATIO_CLAMP, Math.max(-LOG_RATIO_CLAMP, lr));
    rowLogp[r] = logp;
    const dv = values[r] - mb.targets[r];
    if (!Number.isFinite(dv)) return nanResult(ws);
    vlSum += dv * dv;
    dValues[r] = cfg.vfCoef * dv * invN;
  }

  // v3.1's batch exponent from this minibatch's w (THEORY.md section 2).
  let ge = 1;
  if (obj.method === 'v3.1') {
    for (let r = 0; r < n; r++) rowW[r] = Math.exp(rowW[r]);
    ge = gammaEss(rowW.subarray(0, n), obj.essMin);
    for (let r = 0; r < n; r++) rowW[r] = Math.log(rowW[r]);
  }

  // Pass 2: policy loss -(1/N) sum g A logp, d/dz_k = -(1/N) g A (onehot_k - p_k).
  let plSum = 0;
  for (let r = 0; r < n; r++) {
    const A = mb.adv[r];
    const logp = rowLogp[r];
    const g = weightFromLogRatio(obj, rowW[r], A, ge).g;
    ws.rowG[r] = g;
    const c = g * A;
    plSum += c * logp;
    const o = r * nA;
    const lse = logits[o + mb.actions[r]] - logp;
    const s = -c * invN;
    for (let k = 0; k < nA; k++) dLogits[o + k] -= s * Math.exp(logits[o + k] - lse);
    dLogits[o + mb.actions[r]] += s;
  }

  backward(spec, params, ws, dLogits, dValues, ws.grad);
  const grad = ws.grad;
  let bad = 0; // x - x is NaN exactly when x is NaN or infinite
  for (let i = 0; i < grad.length; i++) bad += grad[i] - grad[i];
  if (bad !== 0) return nanResult(ws);

  const policyLoss = -plSum * invN;
  const valueLoss = 0.5 * vlSum * invN;
  const entropy = entSum * invN;
  const total = policyLoss + cfg.vfCoef * valueLoss - cfg.entCoef * entropy;
  return { grad, terms: { total, policyLoss, valueLoss, entropy } };
}
