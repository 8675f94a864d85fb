/**
 * The scalar form of the gradient weights, for tools, the CLI (`isreshape weights`) and tests:
 * one sample, validated input, a fresh result object. A thin wrapper over the one kernel
 * (`sampleWeight` in kernel.ts) that the batch form `computeWeights` uses too; the formulas of
 * docs/METHODS.md section 2 live there only. Also M(tau_h) = max w h(w) (docs/METHODS.md section 3.3).
 */
import type { ObjectiveConfig } from '../../protocol/objectiveConfig.js';
import { LOG_RATIO_CLAMP, methodHasGamma, methodHasH, SampleWeight, sampleWeight, trustH } from './kernel.js';
import { assertFinite, assertRatio } from './validate.js';

export { LOG_RATIO_CLAMP, pWrong, sech2, sigmoid, trustH } from './kernel.js';
export { gammaEss } from './weights.js';

/** One sample's weight and the intermediate quantities the diagnostics log. */
export interface Weight {
  g: number;
  /** v3.1: gamma_ess * P_wrong; v5: the interpolated gamma; v5-fixed: the constant; else null. */
  gamma: number | null;
  /** v5 / v5-fixed: h(w); else null. */
  h: number | null;
}

const scratch = new SampleWeight();

function weightAt(cfg: ObjectiveConfig, w: number, logW: number, A: number, gammaEss: number): Weight {
  const g = sampleWeight(cfg, w, logW, A, gammaEss, scratch);
  return { g, gamma: methodHasGamma(cfg.method) ? scratch.gamma : null, h: methodHasH(cfg.method) ? scratch.h : null };
}

/**
 * g(w, A) for `cfg.method` with every option of docs/METHODS.md section 2. `gammaEss` is v3.1's
 * batch exponent (see `gammaEss`); other methods ignore it. Throws NonFiniteInputError when
 * w is not a finite number > 0, or A or gammaEss is not finite.
 */
export function weightOf(cfg: ObjectiveConfig, w: number, A: number, gammaEss = 1): Weight {
  assertRatio('w', w);
  assertFinite('A', A);
  if (cfg.method === 'v3.1') assertFinite('gammaEss', gammaEss);
  return weightAt(cfg, w, Math.log(w), A, gammaEss);
}

/**
 * g from log w = logp - logmu: clamps log w to [-20, 20] first (docs/METHODS.md section 1), then
 * the kernel. Rejects a NaN or infinite logRatio with a NonFiniteInputError naming it.
 */
export function weightFromLogRatio(cfg: ObjectiveConfig, logRatio: number, A: number, gammaEss = 1): Weight {
  assertFinite('logRatio', logRatio);
  assertFinite('A', A);
  if (cfg.method === 'v3.1') assertFinite('gammaEss', gammaEss);
  const lw = Math.min(Math.max(logRatio, -LOG_RATIO_CLAMP), LOG_RATIO_CLAMP);
  return weightAt(cfg, Math.exp(lw), lw, A, gammaEss);
}

/**
 * M(tau_h) = max of w h(w) over the reachable w in [e^-20, e^20], found numerically (grid in
 * log w, then golden-section refinement). v5's g lies in (1 - gamma_max, 1 + gamma_max (M - 1))
 * (docs/METHODS.md section 3.3). For trust 'log' with tau_h <= 1, w h(w) keeps growing with w, so M is its
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
