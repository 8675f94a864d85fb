/**
 * The one implementation of the gradient weights g(w, A) of docs/METHODS.md section 2: every method
 * and option, one sample at a time, in float64. Both the batch form (`computeWeights` in
 * weights.ts, which every gradient path and the diagnostics use) and the scalar form
 * (`weightOf` in scalar.ts, for the CLI and tests) call `sampleWeight`; no other file holds a
 * formula of g. The policy loss built from g is L = -(1/N) sum sg[g(w_i, A_i)] A_i logp_i:
 * g is a stop-gradient weight, so it is computed here as plain data and the gradient paths
 * only differentiate logp.
 *
 * `v3.1` is a RECONSTRUCTION, not a published formula: the draft only says "g = w^gamma,
 * gamma from an ESS constraint and P_correct". Here, per batch, gamma_ess is the largest
 * gamma in [0, 1] with ESS(w^gamma) >= ess_min (see `gammaEss` in weights.ts), and each
 * sample uses gamma_i = gamma_ess * P_wrong, P_wrong = sigmoid(-A log w / tau_c).
 */
import type { MethodName, ObjectiveConfig } from '../../protocol/objectiveConfig.js';

/** Clamp range of log w before exponentiating (docs/METHODS.md section 1). */
export const LOG_RATIO_CLAMP = 20;

/** Logistic sigmoid 1/(1+e^-x), evaluated without overflow for either sign of x. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** sech(x)^2 in the stable form 4 e^{-2|x|} / (1 + e^{-2|x|})^2 (docs/METHODS.md section 2). */
export function sech2(x: number): number {
  const t = Math.exp(-2 * Math.abs(x));
  return (4 * t) / ((1 + t) * (1 + t));
}

/** h of v5 / v5-fixed from w and log w: sech2(tau_h (w-1)/2) ('linear') or sech2(tau_h log(w)/2) ('log'). */
function trust(cfg: Pick<ObjectiveConfig, 'trust' | 'tauH'>, w: number, logW: number): number {
  return cfg.trust === 'log' ? sech2((cfg.tauH * logW) / 2) : sech2((cfg.tauH * (w - 1)) / 2);
}

/** Trust h(w) of v5 / v5-fixed: sech2(tau_h (w-1)/2) ('linear') or sech2(tau_h log(w)/2) ('log'). */
export function trustH(cfg: Pick<ObjectiveConfig, 'trust' | 'tauH'>, w: number): number {
  return trust(cfg, w, Math.log(w));
}

/** P_wrong = sigmoid(-A log w / tau_c): near 1 when the sample pushes the policy the wrong way. */
export function pWrong(A: number, logW: number, tauC: number): number {
  return sigmoid((-A * logW) / tauC);
}

/** True when `method` has a trust h(w) (v5, v5-fixed). */
export function methodHasH(method: MethodName): boolean {
  return method === 'v5' || method === 'v5-fixed';
}

/** True when `method` has a per-sample gamma (v3.1, v5, v5-fixed). */
export function methodHasGamma(method: MethodName): boolean {
  return method === 'v3.1' || method === 'v5' || method === 'v5-fixed';
}

/** One sample's g, with h and gamma where the method has them (NaN otherwise). Reused, not reallocated. */
export class SampleWeight {
  g = NaN;
  h = NaN;
  gamma = NaN;
}

function v5Family(cfg: ObjectiveConfig, w: number, logW: number, A: number, gamma: number, out: SampleWeight): void {
  const h = trust(cfg, w, logW);
  let floor = 1 - gamma;
  if (cfg.sftTrust) floor *= h; // docs/METHODS.md section 2: sft-trust multiplies the SFT term too.
  if (cfg.floor === 'neg-is' && A < 0) floor *= Math.min(w, 1); // docs/METHODS.md section 3.6
  const g = floor + gamma * w * h;
  // docs/METHODS.md section 2.3: 'max1' raises g to at least 1 where the policy moved the wrong
  // way (A log w < 0); 'const' and 'neg-is' leave it. A NaN stays NaN (Math.max).
  out.g = cfg.floor === 'max1' && A * logW < 0 ? Math.max(g, 1) : g;
  out.h = h;
  out.gamma = gamma;
}

/**
 * g(w, A) of `cfg.method` with every option of docs/METHODS.md section 2, written into `out` (g,
 * and h / gamma where the method has them) and returned. `w` and `logW` are the same ratio
 * (w = e^logW, already clamped by the caller); `gammaEss` is v3.1's batch exponent, ignored
 * by the other methods. Hot path: validates nothing, NaN in gives NaN out.
 */
export function sampleWeight(cfg: ObjectiveConfig, w: number, logW: number, A: number, gammaEss: number, out: SampleWeight): number {
  switch (cfg.method) {
    case 'sft':
      out.g = 1;
      break;
    case 'is':
      out.g = w;
      break;
    case 'ppo':
      // True gradient weight of min(wA, clip(w, 1-eps, 1+eps) A): zero where the clip is active
      // (the tests are written so that a NaN w stays NaN).
      if (A > 0) out.g = w > 1 + cfg.eps ? 0 : w;
      else if (A < 0) out.g = w < 1 - cfg.eps ? 0 : w;
      else out.g = w;
      break;
    case 'cispo':
      out.g = Math.min(Math.max(w, 1 - cfg.eps), 1 + cfg.eps);
      break;
    case 'vtrace':
      out.g = Math.min(w, cfg.rhoBar);
      break;
    case 'sapo': {
      const tau = A > 0 ? cfg.tauPos : cfg.tauNeg;
      out.g = w * sech2((tau * (w - 1)) / 2);
      break;
    }
    case 'v3.1': {
      const gamma = gammaEss * pWrong(A, logW, cfg.tauC);
      out.g = Math.exp(gamma * logW);
      out.gamma = gamma;
      break;
    }
    case 'v5':
      v5Family(cfg, w, logW, A, cfg.gammaBase + (cfg.gammaMax - cfg.gammaBase) * pWrong(A, logW, cfg.tauC), out);
      break;
    case 'v5-fixed':
      v5Family(cfg, w, logW, A, cfg.gamma, out);
      break;
  }
  return out.g;
}
