/**
 * Configuration of the off-policy correction (docs/METHODS.md section 2). One typed record, every
 * field documented with its default; the CLI flags map one-to-one onto these fields.
 */

/** The method names, exactly as the CLI spells them (docs/METHODS.md section 2). */
export const METHODS = ['sft', 'is', 'ppo', 'cispo', 'vtrace', 'sapo', 'v3.1', 'v5', 'v5-fixed'] as const;
export type MethodName = (typeof METHODS)[number];

export type TrustForm = 'linear' | 'log';
export type FloorForm = 'const' | 'neg-is' | 'max1';

export interface ObjectiveConfig {
  /** Which gradient weight g(w, A) to use. */
  method: MethodName;
  /** ppo / cispo: clip range epsilon. Default 0.2. */
  eps: number;
  /** vtrace: truncation rho_bar of the weight and of the V-trace targets. Default 1. */
  rhoBar: number;
  /** V-trace trace cutting c_bar (advantages, docs/METHODS.md section 4). Default 1. */
  cBar: number;
  /** sapo: temperature for A > 0. Default 1.0. */
  tauPos: number;
  /** sapo: temperature for A <= 0. Default 1.05. */
  tauNeg: number;
  /** v3.1: the ESS floor that sets the batch exponent gamma_ess. Default 0.5. */
  essMin: number;
  /** v3.1 / v5: temperature of P_wrong = sigmoid(-A log w / tau_c). Default 1. */
  tauC: number;
  /** v5 / v5-fixed: width of the trust function h. Default 1. */
  tauH: number;
  /** v5: gamma at P_wrong = 0. Default 0.1. */
  gammaBase: number;
  /** v5: gamma at P_wrong = 1. Default 0.9. */
  gammaMax: number;
  /** v5-fixed: the constant gamma. Default 0.5. */
  gamma: number;
  /** v5 / v5-fixed: h(w) = sech2(tau_h (w-1)/2) ('linear', the draft) or sech2(tau_h log(w)/2) ('log'). */
  trust: TrustForm;
  /** v5 / v5-fixed: multiply the SFT floor by h(w) too. Default false (the draft's form). */
  sftTrust: boolean;
  /**
   * v5 / v5-fixed: 'const' floor (1-gamma) (the draft); 'neg-is': floor * min(w,1) when A < 0;
   * 'max1': the draft's g, raised to at least 1 on samples with A log w < 0 (the draft's rejected alternative).
   */
  floor: FloorForm;
}

/**
 * The defaults: docs/METHODS.md section 2's values for every parameter, and `ppo` as the method.
 * The method is the one measured to fail least: in docs/findings/results.ndjson (IMPALA-style
 * CartPole, 10 seeds at lags 0, 16 and 64) ppo reached 475 in 28/30 runs and collapsed in none,
 * v5 with the neg-is floor in 27/30 (not told apart), the draft's v5 (constant floor) in 15/30
 * with 14/30 collapsed; on the cartpole preset (lags 0, 4, 16, 64) ppo in 40/40, v5 neg-is in
 * 30/40 (README, "Which correction to trust"). The draft's v5 is one flag away: `--method v5`
 * (its floor default stays the draft's `const`). Frozen: copy with a spread to change a field.
 */
export const DEFAULT_OBJECTIVE: Readonly<ObjectiveConfig> = Object.freeze({
  method: 'ppo',
  eps: 0.2,
  rhoBar: 1,
  cBar: 1,
  tauPos: 1.0,
  tauNeg: 1.05,
  essMin: 0.5,
  tauC: 1,
  tauH: 1,
  gammaBase: 0.1,
  gammaMax: 0.9,
  gamma: 0.5,
  trust: 'linear',
  sftTrust: false,
  floor: 'const',
});

/** The accepted range of a numeric field: the test, and how an error states it. */
export interface FieldRange {
  ok: (x: number) => boolean;
  text: string;
}

const POSITIVE: FieldRange = { ok: (x) => x > 0, text: '> 0' };
const UNIT: FieldRange = { ok: (x) => x >= 0 && x <= 1, text: 'in [0, 1]' };

/**
 * The accepted range of every numeric objective field: the one place they are written. The
 * run config's field table (deploy/schema.ts) and `checkObjectiveConfig` both read it.
 */
export const OBJECTIVE_RANGES: Readonly<
  Record<'eps' | 'rhoBar' | 'cBar' | 'tauPos' | 'tauNeg' | 'essMin' | 'tauC' | 'tauH' | 'gammaBase' | 'gammaMax' | 'gamma', FieldRange>
> = Object.freeze({
  eps: { ok: (x: number) => x > 0 && x < 1, text: 'in (0, 1): clip(w, 1-eps, 1+eps) needs 1-eps > 0' },
  rhoBar: POSITIVE,
  cBar: POSITIVE,
  tauPos: POSITIVE,
  tauNeg: POSITIVE,
  essMin: { ok: (x: number) => x > 0 && x <= 1, text: 'in (0, 1]' },
  tauC: POSITIVE,
  tauH: POSITIVE,
  gammaBase: UNIT,
  gammaMax: UNIT,
  gamma: UNIT,
});

/** The accepted values of every choice field. */
export const OBJECTIVE_CHOICES = Object.freeze({
  method: METHODS,
  trust: ['linear', 'log'] as const satisfies readonly TrustForm[],
  floor: ['const', 'neg-is', 'max1'] as const satisfies readonly FloorForm[],
});
