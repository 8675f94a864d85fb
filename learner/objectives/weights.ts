/**
 * The gradient weights of a batch in float64: clamp log w, w = e^{log w}, v3.1's batch
 * exponent gamma_ess, then g (and h, gamma) per sample from the one kernel (kernel.ts). The
 * learner computes them once per minibatch and feeds g as data to whichever gradient path
 * runs (learner/lossJs.ts, learner/loss.ts) and to the diagnostics. Buffers live in a
 * `WeightBatch` reused across calls: once its capacity covers n, a call allocates nothing.
 */
import { ess } from '../diagnostics.js';
import type { ObjectiveConfig } from '../../protocol/objectiveConfig.js';
import { LOG_RATIO_CLAMP, methodHasGamma, methodHasH, SampleWeight, sampleWeight } from './kernel.js';
import { assertFiniteArray, NonFiniteInputError } from './validate.js';

/** Float64 per-sample buffers of one batch's weights; `computeWeights` fills them. */
export class WeightBatch {
  /** Samples of the last `computeWeights`. */
  n = 0;
  /** clamp(log w, -20, 20) (length n). */
  logW: Float64Array = new Float64Array(0);
  /** w = e^{logW} (length n). */
  w: Float64Array = new Float64Array(0);
  /** The gradient weights (length n). */
  g: Float64Array = new Float64Array(0);
  /** Trust h(w) for v5 / v5-fixed (length n), else null. */
  h: Float64Array | null = null;
  /** Per-sample gamma for v3.1 / v5 / v5-fixed (length n), else null. */
  gamma: Float64Array | null = null;
  /** v3.1's gamma_ess used (1 for the other methods). */
  gammaEss = 1;
  private cap = 0;
  private bufs: Float64Array<ArrayBuffer>[] = [];
  private hView: Float64Array = new Float64Array(0);
  private gammaView: Float64Array = new Float64Array(0);
  /** Length of the current views; -1 after the buffers were replaced. */
  private viewsN = 0;
  private readonly one = new SampleWeight();

  /** Buffers for up to `capacity` samples (grown on demand). */
  constructor(capacity = 0) {
    this.grow(capacity);
  }

  /**
   * A buffer of n samples for the caller to write log w into before `computeWeights` (it
   * may be passed as its `logRatio`). Overwritten by the next `input` call.
   */
  input(n: number): Float64Array {
    this.grow(n);
    return this.bufs[0].subarray(0, n);
  }

  /** Size the length-n views (and the capacity); allocates only when n grows or changes. */
  resize(n: number, hasH: boolean, hasGamma: boolean): void {
    this.grow(n);
    if (n !== this.viewsN) {
      const [, logW, w, g, h, gamma] = this.bufs;
      this.logW = logW.subarray(0, n);
      this.w = w.subarray(0, n);
      this.g = g.subarray(0, n);
      this.hView = h.subarray(0, n);
      this.gammaView = gamma.subarray(0, n);
      this.viewsN = n;
    }
    this.n = n;
    this.h = hasH ? this.hView : null;
    this.gamma = hasGamma ? this.gammaView : null;
  }

  /** The SampleWeight scratch `computeWeights` hands to the kernel. */
  get scratch(): SampleWeight {
    return this.one;
  }

  private grow(n: number): void {
    if (n <= this.cap && this.bufs.length > 0) return;
    this.cap = Math.max(n, 2 * this.cap);
    // input, logW, w, g, h, gamma, and the scratch of gammaEss's bisection
    this.bufs = Array.from({ length: 7 }, () => new Float64Array(this.cap));
    this.viewsN = -1; // the views point into the old buffers: rebuild them
  }

  /** Scratch of n samples for gammaEss's bisection. */
  bisectionScratch(n: number): Float64Array {
    return this.bufs[6].subarray(0, n);
  }
}

export interface ComputeWeightsOptions {
  /** Samples to use (default logRatio.length). */
  n?: number;
  /** v3.1's batch exponent; computed from this batch's w when absent. */
  gammaEss?: number;
  /** Where to write (default: a new WeightBatch). */
  out?: WeightBatch;
}

/**
 * g(w_i, A_i) for the first n samples, with log w_i = clamp(logRatio_i, -20, 20) (docs/METHODS.md
 * section 1), every method and option of `cfg`, and for v3.1 gamma_ess from this batch's w
 * unless given. Returns `opts.out` (or a new WeightBatch) filled for n samples. Hot path: never
 * throws on bad numbers; a NaN log-ratio gives NaN weights (for v3.1, all of them: gamma_ess
 * is NaN), so the caller's finiteness check catches it. Throws a RangeError when logRatio or
 * adv hold fewer than n samples (a caller bug).
 */
export function computeWeights(
  cfg: ObjectiveConfig,
  logRatio: Float64Array | Float32Array,
  adv: Float64Array | Float32Array,
  opts: ComputeWeightsOptions = {},
): WeightBatch {
  const n = opts.n ?? logRatio.length;
  if (logRatio.length < n || adv.length < n)
    throw new RangeError(`computeWeights: ${n} samples, but logRatio has ${logRatio.length} and adv ${adv.length}`);
  const out = opts.out ?? new WeightBatch(n);
  out.resize(n, methodHasH(cfg.method), methodHasGamma(cfg.method));
  const { logW, w, g } = out;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const lw = Math.min(LOG_RATIO_CLAMP, Math.max(-LOG_RATIO_CLAMP, logRatio[i]));
    if (lw !== lw) finite = false;
    logW[i] = lw;
    w[i] = Math.exp(lw);
  }
  let ge = 1;
  if (cfg.method === 'v3.1') ge = opts.gammaEss ?? (finite ? bisectGammaEss(w, cfg.essMin, out.bisectionScratch(n)) : NaN);
  out.gammaEss = ge;
  const one = out.scratch;
  const h = out.h;
  const gamma = out.gamma;
  for (let i = 0; i < n; i++) {
    g[i] = sampleWeight(cfg, w[i], logW[i], adv[i], ge, one);
    if (h !== null) h[i] = one.h;
    if (gamma !== null) gamma[i] = one.gamma;
  }
  return out;
}

/**
 * The largest gamma in [0, 1] with ESS(w^gamma) >= essMin, for finite w > 0: 1 when ESS(w)
 * already meets it, else 30 bisection steps on [0, 1] keeping the lower (feasible) end, which
 * reproduces the golden vectors. `wg` is scratch of w's length.
 */
function bisectGammaEss(w: Float64Array, essMin: number, wg: Float64Array): number {
  if (w.length === 0 || ess(w) >= essMin) return 1;
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
 * v3.1's batch exponent: the largest gamma in [0, 1] with ESS(w^gamma) >= essMin (see
 * `bisectGammaEss`; `computeWeights` uses the same function). Rejects w entries that are not
 * finite and > 0 with a NonFiniteInputError naming the first.
 */
export function gammaEss(w: ArrayLike<number>, essMin: number): number {
  assertFiniteArray('w', w);
  for (let i = 0; i < w.length; i++) if (!(w[i] > 0)) throw new NonFiniteInputError('w', i, w[i], 'a finite ratio > 0');
  const w64 = Float64Array.from(w);
  return bisectGammaEss(w64, essMin, new Float64Array(w64.length));
}
