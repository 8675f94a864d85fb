/**
 * The learner's update, readable top to bottom (CleanRL order): anneal the learning rate,
 * build the batch (forward pass, log-ratios, advantages), measure the off-policy diagnostics,
 * then epochs x minibatches of gradient steps with global-norm clipping and Adam. A gradient
 * with a NaN or infinity skips its step (counted, logged by the caller): it never reaches the
 * parameters.
 */
import type { ModelSpec } from '../model/spec.js';
import type { Quadrants } from '../protocol/records.js';
import { tfjs } from '../model/backend.js';
import { Rng } from '../model/rng.js';
import { computeWeights, WeightBatch } from './objectives/weights.js';
import { summarizeBatch, type BatchDiagnostics } from './diagnostics.js';
import { buildBatch, responsePermutation, selectRows, type Batch, type TrainingSegment } from './batch.js';
import { lossAndGrad, type LossTerms } from './loss.js';
import { lossAndGradJs } from './lossJs.js';
import { Workspace } from '../model/grad.js';
import { FlatAdam } from './adam.js';
import type { LearnerConfig } from './config.js';

export interface UpdateStats extends BatchDiagnostics {
  samples: number;
  policyLoss: number;
  valueLoss: number;
  /** Mean policy entropy before the update, nats. */
  entropy: number;
  /** Mean global gradient norm before clipping, over the steps taken. */
  gradNorm: number;
  lr: number;
  /** Gradient steps skipped because the gradient was not finite. */
  nonFiniteSkips: number;
  lagMin: number;
  lagMean: number;
  lagMax: number;
  /** max |log w| over the batch before the update: 0 up to float32 rounding when on-policy. */
  maxAbsLogRatio: number;
  /**
   * Count and mean g per quadrant over every sample of every gradient step (all epochs), with
   * w measured against the parameters at that step: what the multi-epoch updates actually
   * weighted (THEORY.md 3.6). Both gradient paths fill it (the weights are data in both).
   */
  trainQuadrants: Quadrants | null;
}

const QUADRANT_KEYS = ['wHighAPos', 'wHighANeg', 'wLowAPos', 'wLowANeg'] as const;

/** A uniformly random permutation of 0..n-1 (Fisher-Yates) drawn from `rng`. */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

export class Learner {
  /** Number of updates applied so far: the version of the current parameters. */
  version = 0;
  /** Master copy of the parameters, float64; actors get float32 copies. */
  private readonly params: Float64Array;
  private readonly adam: FlatAdam;
  private readonly rng: Rng;
  private readonly ws: Workspace;
  /** The weights of the current minibatch, and of the whole batch for the diagnostics. */
  private readonly wts = new WeightBatch(256);
  private readonly batchWts = new WeightBatch(256);

  /**
   * Throws when `cfg.grad` is 'tfjs' and tfjs is not loaded yet (await initBackend() first;
   * the default 'js' path runs no tensor op and does not need it).
   */
  constructor(readonly spec: ModelSpec, private readonly cfg: LearnerConfig, initial: Float32Array, seed: number) {
    if (cfg.grad === 'tfjs') tfjs(); // throws now, not at the first update, when tfjs is not loaded
    this.params = Float64Array.from(initial);
    this.adam = new FlatAdam(initial.length, 0.9, 0.999, cfg.adamEps);
    this.rng = new Rng(seed);
    this.ws = new Workspace(spec, 256);
  }

  /** A float32 copy of the current parameters (what actors act with). */
  paramsArray(): Float32Array {
    return Float32Array.from(this.params);
  }

  /**
   * Loss terms and gradient of a minibatch, the weights in `this.wts`: the float64 hand-written
   * backward pass (`grad: 'js'`, the default, on wasm SIMD kernels: about 5x faster than
   * tfjs-wasm at n = 256, see bench/grad.ts) or tfjs autodiff (`grad: 'tfjs'`). Both compute g
   * once with `computeWeights` and are tested equal (test/unit/learner/lossJs.test.ts).
   */
  private gradient(mb: Batch): { grad: Float64Array; terms: LossTerms } {
    if (this.cfg.grad !== 'tfjs') return lossAndGradJs(this.spec, this.cfg, this.params, mb, this.ws, this.wts);
    const tf = tfjs();
    const p = tf.tensor1d(Float32Array.from(this.params));
    try {
      const r = lossAndGrad(this.spec, this.cfg, p, mb, this.wts);
      const grad = Float64Array.from(r.grad.dataSync());
      r.grad.dispose();
      return { grad, terms: r.terms };
    } finally {
      p.dispose();
    }
  }

  /** Learning rate for an update that starts after `envSteps` steps. */
  lrAt(envSteps: number): number {
    if (!this.cfg.annealLr) return this.cfg.lr;
    return this.cfg.lr * Math.max(0.02, 1 - envSteps / this.cfg.steps);
  }

  /** One update on `segs`; increments `version`. `envSteps` is the count before this batch. */
  step(segs: TrainingSegment[], envSteps: number): UpdateStats {
    const cfg = this.cfg;
    const lr = this.lrAt(envSteps);
    const batch = buildBatch(this.spec, this.params, segs, cfg, this.ws);
    const diag = this.diagnose(batch);

    const mbSize = Math.floor(batch.n / cfg.minibatches);
    let plSum = 0, vlSum = 0, normSum = 0, steps = 0, skips = 0;
    const qn = [0, 0, 0, 0], qg = [0, 0, 0, 0];
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const perm = batch.response ? responsePermutation(batch, this.rng) : permutation(batch.n, this.rng);
      for (let k = 0; k < cfg.minibatches; k++) {
        const mb = selectRows(batch, perm.subarray(k * mbSize, (k + 1) * mbSize), this.spec.obsDim);
        const { grad, terms } = this.gradient(mb);
        let sq = 0;
        for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
        const norm = Math.sqrt(sq);
        if (!Number.isFinite(norm) || !Number.isFinite(terms.total)) {
          skips++; // a NaN or infinity never reaches the parameters
          continue;
        }
        const { logW, g } = this.wts;
        for (let r = 0; r < mb.n; r++) {
          const q = (logW[r] > 0 ? 0 : 2) + (mb.adv[r] > 0 ? 0 : 1);
          qn[q]++; qg[q] += g[r];
        }
        this.adam.step(this.params, grad, lr, Math.min(1, cfg.maxGradNorm / (norm + 1e-6)));
        plSum += terms.policyLoss; vlSum += terms.valueLoss; normSum += norm; steps++;
      }
    }
    this.version += 1;
    let lagMin = Infinity, lagMax = -Infinity, lagSum = 0;
    for (const { msg, lag } of segs) {
      lagMin = Math.min(lagMin, lag); lagMax = Math.max(lagMax, lag); lagSum += lag * msg.T * msg.E;
    }
    return {
      ...diag,
      samples: batch.n,
      policyLoss: steps ? plSum / steps : NaN,
      valueLoss: steps ? vlSum / steps : NaN,
      entropy: batch.entropy,
      gradNorm: steps ? normSum / steps : NaN,
      lr,
      nonFiniteSkips: skips,
      lagMin, lagMean: lagSum / batch.n, lagMax,
      maxAbsLogRatio: batch.logRatio.reduce((m, x) => Math.max(m, Math.abs(x)), 0),
      trainQuadrants: Object.fromEntries(QUADRANT_KEYS.map((k, q) => [k, { n: qn[q], meanG: qn[q] ? qg[q] / qn[q] : null }])) as unknown as Quadrants,
    };
  }

  /**
   * THEORY.md section 5 diagnostics of the batch under the parameters before the update, with
   * the same weights the gradient uses (`computeWeights`; v3.1: gamma_ess from the whole batch).
   */
  private diagnose(batch: Batch): BatchDiagnostics {
    const w = computeWeights(this.cfg.objective, batch.logRatio, batch.adv, { out: this.batchWts });
    return summarizeBatch({ logRatio: batch.logRatio, adv: batch.adv, g: w.g, h: w.h, gamma: w.gamma, lag: batch.lag, ...(batch.seq ? { seq: batch.seq } : {}) });
  }
}
