/**
 * The gradient weights g(w, A) of THEORY.md section 2, float64 scalar form (for tools, the
 * CLI and tests; the learner uses the batched tensor form in `tensor.ts`). The policy loss
 * built from them is L = -(1/N) sum sg[g(w_i, A_i)] A_i logp_i.
 *
 * `v3.1` is a RECONSTRUCTION, not a published formula: the draft only says "g = w^gamma,
 * gamma from an ESS constraint and P_correct". Here, per batch, gamma_ess is the largest
 * gamma in [0, 1] with ESS(w^gamma) >= ess_min (bisection, 30 steps, keeping the feasible
 * end; 1 when ESS(w) already meets it), and each sample uses gamma_i = gamma_ess * P_wrong,
 * P_wrong = sigmoid(-A log w / tau_c).
 */
import { ess } from '../diagnostics.js';
import type { ObjectiveConfig } from './config.js';
import { assertFinite, assertFiniteArray, assertRatio, NonFiniteInputError } from './validate.js';

/** Clamp range of log w before exponentiating (THEORY.md section 1). */
export const LOG_RATIO_CLAMP = 20;

/** Logistic sigmoid 1/(1+e^-x), evaluated without overflow for either sign of x. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** sech(x)^2 in the stable form 4 e^{-2|x|} / (1 + e^{-2|x|})^2 (THEORY.md section 2). */
export function sech2(x: number): number {
  const t = Math.exp(-2 * Math.abs(x));
  return (4 * t) / ((1 + t) * (1 + t));
}

/** Trust h(w) of v5 / v5-fixed: sech2(tau_h (w-1)/2) ('linear') or sech2(tau_h log(w)/2) ('log'). */
export function trustH(cfg: Pick<ObjectiveConfig, 'trust' | 'tauH'>, w: number): number {
  return cfg.trust === 'log' ? sech2((cfg.tauH * Math.log(w)) / 2) : sech2((cfg.tauH * (w - 1)) / 2);
}

/** P_wrong = sigmoid(-A log w / tau_c): near 1 when the sample pushes the policy the wrong way. */
export function pWrong(A: number, logW: number, tauC: number): number {
  return sigmoid((-A * logW) / tauC);
}

/** One sample's weight and the intermediate quantities the diagnostics log. */
export interface Weight {
  g: number;
  /** v3.1: gamma_ess * P_wrong; v5: the interpolated gamma; v5-fixed: the constant; else null. */
  gamma: number | null;
  /** v5 / v5-fixed: h(w); else null. */
  h: number | null;
}

function v5Family(cfg: ObjectiveConfig, w: number, A: number, gamma: number): Weight {
  const h = trustH(cfg, w);
  let floor = 1 - gamma;
  if (cfg.sftTrust) floor *= h; // THEORY.md 2: sft-trust multiplies the SFT term too.
  if (cfg.floor === 'neg-is' && A < 0) floor *= Math.min(w, 1); // THEORY.md 3.6
  return { g: floor + gamma * w * h, gamma, h };
}

/**
 * g(w, A) for `cfg.method` with every option of THEORY.md section 2. `gammaEss` is v3.1's
 * batch exponent (see `gammaEss`); other methods ignore it. Throws NonFiniteInputError when
 * w is not a finite number > 0, or A or gammaEss is not finite.
 */
export function weightOf(cfg: ObjectiveConfig, w: number, A: number, gammaEss = 1): Weight {
  assertRatio('w', w);
  assertFinite('A', A);
  const none = { gamma: null, h: null };
  switch (cfg.method) {
    case 'sft':
      return { g: 1, ...none };
    case 'is':
      return { g: w, ...none };
    case 'ppo': {
      // True gradient weight of min(wA, clip(w, 1-eps, 1+eps) A): zero where the clip is active.
      if (A > 0) return { g: w <= 1 + cfg.eps ? w : 0, ...none };
      if (A < 0) return { g: w >= 1 - cfg.eps ? w : 0, ...none };
      return { g: w, ...none };
    }
    case 'cispo':
      return { g: Math.min(Math.max(w, 1 - cfg.eps), 1 + cfg.eps), ...none };
    case 'vtrace':
      return { g: Math.min(w, cfg.rhoBar), ...none };
    case 'sapo': {
      const tau = A > 0 ? cfg.tauPos : cfg.tauNeg;
      return { g: w * sech2((tau * (w - 1)) / 2), ...none };
    }
    case 'v3.1': {
      assertFinite('gammaEss', gammaEss);
      const logW = Math.log(w);
      const gamma = gammaEss * pWrong(A, logW, cfg.tauC);
      return { g: Math.exp(gamma * logW), gamma, h: null };
    }
    case 'v5': {
      const gamma = cfg.gammaBase + (cfg.gammaMax - cfg.gammaBase) * pWrong(A, Math.log(w), cfg.tauC);
      return v5Family(cfg, w, A, gamma);
    }
    case 'v5-fixed':
      return v5Family(cfg, w, A, cfg.gamma);
  }
}

/**
 * g from log w = logp - logmu: clamps log w to [-20, 20] first (THEORY.md section 1), then
 * `weightOf`. Rejects a NaN or infinite logRatio with a NonFiniteInputError naming it.
 */
export function weightFromLogRatio(cfg: ObjectiveConfig, logRatio: number, A: number, gammaEss = 1): Weight {
  assertFinite('logRatio', logRatio);
  const lw = Math.min(Math.max(logRatio, -LOG_RATIO_CLAMP), LOG_RATIO_CLAMP);
  return weightOf(cfg, Math.exp(lw), A, gammaEss);
}

/**
 * v3.1's batch exponent: the largest gamma in [0, 1] with ESS(w^gamma) >= essMin. Returns 1
 * when ESS(w) already meets it; otherwise bisects 30 times on [0, 1] and returns the lower
 * (feasible) end, which reproduces the golden vectors. Rejects w entries that are not finite
 * and > 0.
 */
export function gammaEss(w: ArrayLike<number>, essMin: number): number {
  assertFiniteArray('w', w);
  for (let i = 0; i < w.length; i++) if (!(w[i] > 0)) throw new NonFiniteInputError('w', i, w[i], 'a finite ratio > 0');
  if (w.length === 0 || ess(w) >= essMin) return 1;
  const wg = new Float64Array(w.length);
  let lo = 0;
  let hi = 1;
  for (let step = 0; step < 30; step++) {
    const mid = (lo + hi) / 2;
    for (let i = 0; i < w.length; i++) wg[i] = w[i] ** mid;
    if (ess(wg) >= essMin) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * M(tau_h) = max of w h(w) over the reachable w in [e^-20, e^20], found numerically (grid in
 * log w, then golden-section refinement). v5's g lies in (1 - gamma_max, 1 + gamma_max (M - 1))
 * (THEORY.md 3.3). For trust 'log' with tau_h <= 1, w h(w) keeps growing with w, so M is its
 * value at the clamp edge. Returns the maximiser too.
 */
export function maxWH(tauH: number, trust: ObjectiveConfig['trust'] = 'linear'): { m: number; w: number } {
  const f = (u: number): number => {
    const w = Math.exp(u);
    return w * trustH({ trust, tauH }, w);
  };
  const steps = 8000;
  const du = (2 * LOG_RATIO_CLAMP) / steps;
  let best = -LOG_RATIO_CLAMP;
  for (let k = 0; k <= steps; k++) {
    const u = -LOG_RATIO_CLAMP + k * du;
    if (f(u) > f(best)) best = u;
  }
  let a = Math.max(best - du, -LOG_RATIO_CLAMP);
  let b = Math.min(best + du, LOG_RATIO_CLAMP);
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 100; it++) {
    const c = b - phi * (b - a);
    const d = a + phi * (b - a);
    if (f(c) >= f(d)) b = d;
    else a = c;
  }
  const u = (a + b) / 2;
  const m = Math.max(f(u), f(best));
  return { m, w: Math.exp(f(u) >= f(best) ? u : best) };
}
