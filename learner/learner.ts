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
import { permutation, Rng, type RngState } from '../model/rng.js';
import { computeWeights, WeightBatch } from './objectives/weights.js';
import { summarizeBatch, type BatchDiagnostics } from './diagnostics.js';
import { finishBatch, gatherBatch, responsePermutation, selectRows, type Batch, type BatchInputs, type TrainingSegment } from './batch.js';
import { lossAndGrad, type LossTerms } from './loss.js';
import { lossAndGradJs } from './lossJs.js';
import { forwardTrain, Workspace } from '../model/grad.js';
import { ADAM_BETA1, ADAM_BETA2, FlatAdam, type AdamState } from './adam.js';
import type { LearnerConfig } from './config.js';
import { GradThreads } from './threads.js';

/** Where one update's time went, ms (computed with performance.now, summed over its minibatches). */
export interface UpdateTimes {
  /** Building the batch (forward pass, log-ratios, advantages) and its diagnostics. */
  batchMs: number;
  /** Gradients: forward and backward passes and the weights (on the threads: the time awaited). */
  gradMs: number;
  /** Summing the shard gradients (0 in-process). */
  allReduceMs: number;
  /** Norm, clipping and Adam. */
  optimiserMs: number;
}

/**
 * What the update asks its driver for: the batch-building forward pass over all rows of the
 * inputs, or one gradient step (the rows of the batch that form the minibatch).
 */
type Request =
  | { kind: 'forward'; inputs: BatchInputs }
  /**
   * `parts` minibatches of equal size, their rows one after the other (parts > 1 only with
   * --learner-parallel data: one per thread, gradients averaged). `diagnose`: the first request
   * also asks for the batch's diagnostics.
   */
  | { kind: 'grad'; batch: Batch; rows: Int32Array; parts: number; diagnose: boolean }
  /** One Adam step with the gradient of the last 'grad' answer times `scale` (on the threads: split by parameter range). */
  | { kind: 'adam'; grad: Float64Array; lr: number; scale: number };

/**
 * The driver's answer: the forward outputs, or the minibatch's gradient and loss terms (and
 * the diagnostics when asked; `sumSq`, the gradient's sum of squares, when the driver computed
 * it), or that the Adam step is done.
 */
type Answer =
  | { logits: Float64Array; values: Float64Array }
  | { grad: Float64Array; terms: LossTerms; diag?: BatchDiagnostics; sumSq?: number }
  | { stepped: true };

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
   * weighted (docs/METHODS.md section 3.6). Both gradient paths fill it (the weights are data in both).
   */
  trainQuadrants: Quadrants | null;
  /** Where the update's time went. */
  times: UpdateTimes;
}

const QUADRANT_KEYS = ['wHighAPos', 'wHighANeg', 'wLowAPos', 'wLowANeg'] as const;

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
  /** The worker threads of `--learner-threads` > 1, else null (in-process). */
  private readonly threads: GradThreads | null;

  /**
   * Throws when `cfg.grad` is 'tfjs' and tfjs is not loaded yet (await initBackend() first;
   * the default 'js' path runs no tensor op and does not need it).
   */
  constructor(
    readonly spec: ModelSpec,
    private readonly cfg: LearnerConfig,
    initial: Float32Array,
    seed: number,
  ) {
    const L = cfg.learnerThreads ?? 1;
    if (L > 1 && cfg.grad === 'tfjs') throw new RangeError(`learnerThreads ${L} needs grad 'js': the tfjs path runs in this thread`);
    if (cfg.grad === 'tfjs') tfjs(); // throws now, not at the first update, when tfjs is not loaded
    this.rng = new Rng(seed);
    this.ws = new Workspace(spec, 256);
    this.threads = L > 1 ? new GradThreads(spec, cfg, L) : null;
    // With threads, Adam's moments live in their shared memory too: they step ranges of them.
    this.adam = new FlatAdam(initial.length, ADAM_BETA1, ADAM_BETA2, cfg.adamEps, this.threads?.moments);
    // With threads, the master copy lives in their shared memory: Adam steps it in place.
    this.params = this.threads?.params ?? new Float64Array(initial.length);
    this.params.set(initial);
  }

  /** A float32 copy of the current parameters (what actors act with). */
  paramsArray(): Float32Array {
    return new Float32Array(this.params); // the typed-array constructor's fast path (about 1.7x Float32Array.from)
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

  /**
   * One update on `segs`, in this thread (whatever `learnerThreads` says); increments
   * `version`. `envSteps` is the count before this batch.
   */
  step(segs: TrainingSegment[], envSteps: number): UpdateStats {
    const gen = this.updateSteps(segs, envSteps);
    let gradMs = 0,
      diagMs = 0;
    let r = gen.next();
    while (!r.done) {
      const q = r.value;
      if (q.kind === 'forward') {
        const { allObs, n, nBoot, nFinal } = q.inputs;
        forwardTrain(this.spec, this.params, allObs, n + nBoot + nFinal, this.ws);
        r = gen.next({ logits: this.ws.logits, values: this.ws.values });
        continue;
      }
      if (q.kind === 'adam') {
        this.adam.step(this.params, q.grad, q.lr, q.scale);
        r = gen.next({ stepped: true });
        continue;
      }
      if (q.parts !== 1) throw new Error(`in-process update got ${q.parts} minibatches in one step`);
      const td = performance.now();
      const diag = q.diagnose ? this.diagnose(q.batch) : undefined;
      const t0 = performance.now();
      diagMs += t0 - td;
      const res = this.gradient(selectRows(q.batch, q.rows, this.spec.obsDim));
      gradMs += performance.now() - t0;
      r = gen.next({ ...res, diag });
    }
    r.value.times.gradMs = gradMs;
    r.value.times.batchMs += diagMs;
    return r.value;
  }

  /**
   * One update on `segs`: on the learner threads when `learnerThreads` > 1 (this thread
   * computes one shard and awaits the others when they take longer than it did), else `step`.
   * Same update either way with --learner-parallel exact, to float rounding of the sum over
   * shards.
   */
  async update(segs: TrainingSegment[], envSteps: number): Promise<UpdateStats> {
    const threads = this.threads;
    if (threads === null) return this.step(segs, envSteps);
    const gen = this.updateSteps(segs, envSteps);
    let loaded: Batch | null = null;
    let loadMs = 0,
      diagMs = 0;
    threads.takeTimes();
    let r = gen.next();
    while (!r.done) {
      const q = r.value;
      if (q.kind === 'forward') {
        const { allObs, n, nBoot, nFinal } = q.inputs;
        r = gen.next(await threads.forwardRows(allObs, n + nBoot + nFinal));
        continue;
      }
      if (q.kind === 'adam') {
        await threads.adamStep(this.adam, q.grad, q.lr, q.scale);
        r = gen.next({ stepped: true });
        continue;
      }
      const { batch, rows, parts } = q;
      if (batch !== loaded) {
        const t0 = performance.now();
        threads.loadBatch(batch);
        loaded = batch;
        loadMs += performance.now() - t0;
      }
      // The diagnostics depend on the batch only: computed while the workers compute their shards.
      let diag: BatchDiagnostics | undefined;
      const first = q.diagnose
        ? () => {
            const td = performance.now();
            diag = this.diagnose(batch);
            diagMs += performance.now() - td;
          }
        : undefined;
      const res = await threads.gradient(rows, this.wts, parts, first);
      r = gen.next({ ...res, diag });
    }
    const t = threads.takeTimes();
    const times = r.value.times;
    times.batchMs += loadMs + diagMs;
    times.gradMs = Math.max(0, t.gradMs - diagMs);
    times.allReduceMs = t.allReduceMs;
    return r.value;
  }

  /** Stop the learner threads (if any). */
  dispose(): Promise<void> {
    return this.threads?.close() ?? Promise.resolve();
  }

  /**
   * The update, written once for both drivers: yields the batch-building forward pass, then
   * each minibatch's rows, receiving its gradient and loss terms (the weights in `this.wts`);
   * steps Adam; returns the stats.
   */
  private *updateSteps(segs: TrainingSegment[], envSteps: number): Generator<Request, UpdateStats, Answer> {
    const cfg = this.cfg;
    const lr = this.lrAt(envSteps);
    const tb = performance.now();
    const inputs = gatherBatch(this.spec, segs);
    const fwd = yield { kind: 'forward', inputs };
    if (!('logits' in fwd)) throw new Error('update driver answered a forward request with a gradient');
    const batch = finishBatch(this.spec, segs, cfg, inputs, fwd.logits, fwd.values, this.params);
    let diag: BatchDiagnostics | null = null;
    const times: UpdateTimes = { batchMs: performance.now() - tb, gradMs: 0, allReduceMs: 0, optimiserMs: 0 };

    const mbSize = Math.floor(batch.n / cfg.minibatches);
    // --learner-parallel data: one minibatch per thread in each step (the last step of an epoch may have fewer).
    const perStep = cfg.learnerParallel === 'data' ? (cfg.learnerThreads ?? 1) : 1;
    let plSum = 0,
      vlSum = 0,
      normSum = 0,
      steps = 0,
      skips = 0;
    const qn = [0, 0, 0, 0],
      qg = [0, 0, 0, 0];
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const perm = batch.response ? responsePermutation(batch, this.rng) : permutation(batch.n, this.rng);
      for (let k = 0; k < cfg.minibatches; k += perStep) {
        const parts = Math.min(perStep, cfg.minibatches - k);
        const rows = perm.subarray(k * mbSize, (k + parts) * mbSize);
        const res: Answer = yield { kind: 'grad', batch, rows, parts, diagnose: diag === null };
        if (!('grad' in res)) throw new Error('update driver answered a gradient request with forward outputs');
        diag ??= res.diag ?? null;
        const { grad, terms } = res;
        const to = performance.now();
        let sq = res.sumSq ?? 0;
        if (res.sumSq === undefined) for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
        const norm = Math.sqrt(sq);
        if (!Number.isFinite(norm) || !Number.isFinite(terms.total)) {
          skips++; // a NaN or infinity never reaches the parameters
          times.optimiserMs += performance.now() - to;
          continue;
        }
        const { logW, g } = this.wts;
        for (let r = 0; r < rows.length; r++) {
          const q = (logW[r] > 0 ? 0 : 2) + (batch.adv[rows[r]] > 0 ? 0 : 1);
          qn[q]++;
          qg[q] += g[r];
        }
        const done: Answer = yield { kind: 'adam', grad, lr, scale: Math.min(1, cfg.maxGradNorm / (norm + 1e-6)) };
        if (!('stepped' in done)) throw new Error('update driver answered an Adam step with something else');
        plSum += terms.policyLoss;
        vlSum += terms.valueLoss;
        normSum += norm;
        steps++;
        times.optimiserMs += performance.now() - to;
      }
    }
    this.version += 1;
    let lagMin = Infinity,
      lagMax = -Infinity,
      lagSum = 0;
    for (const { msg, lag } of segs) {
      lagMin = Math.min(lagMin, lag);
      lagMax = Math.max(lagMax, lag);
      lagSum += lag * msg.T * msg.E;
    }
    if (diag === null) throw new Error('update driver did not return the diagnostics');
    return {
      ...diag,
      samples: batch.n,
      policyLoss: steps ? plSum / steps : NaN,
      valueLoss: steps ? vlSum / steps : NaN,
      entropy: batch.entropy,
      gradNorm: steps ? normSum / steps : NaN,
      lr,
      nonFiniteSkips: skips,
      lagMin,
      lagMean: lagSum / batch.n,
      lagMax,
      maxAbsLogRatio: batch.logRatio.reduce((m, x) => Math.max(m, Math.abs(x)), 0),
      trainQuadrants: Object.fromEntries(
        QUADRANT_KEYS.map((k, q) => [k, { n: qn[q], meanG: qn[q] ? qg[q] / qn[q] : null }]),
      ) as unknown as Quadrants,
      times,
    };
  }

  /**
   * docs/METHODS.md section 5 diagnostics of the batch under the parameters before the update, with
   * the same weights the gradient uses (`computeWeights`; v3.1: gamma_ess from the whole batch).
   */
  private diagnose(batch: Batch): BatchDiagnostics {
    const w = computeWeights(this.cfg.objective, batch.logRatio, batch.adv, { out: this.batchWts });
    return summarizeBatch({
      logRatio: batch.logRatio,
      adv: batch.adv,
      g: w.g,
      h: w.h,
      gamma: w.gamma,
      lag: batch.lag,
      ...(batch.seq ? { seq: batch.seq } : {}),
    });
  }

  /** Everything a resumed learner needs (copies): float64 parameters, Adam state, minibatch RNG, version. */
  exportState(): LearnerState {
    return { params: Float64Array.from(this.params), adam: this.adam.exportState(), rng: this.rng.state(), version: this.version };
  }

  /** Continue from `exportState()`'s result; throws when it is of another model size. */
  importState(s: LearnerState): void {
    if (s.params.length !== this.params.length)
      throw new RangeError(`state has ${s.params.length} parameters, this model ${this.params.length}`);
    for (let i = 0; i < s.params.length; i++) if (!Number.isFinite(s.params[i])) throw new RangeError(`state parameter ${i} is not finite`);
    this.adam.importState(s.adam);
    this.params.set(s.params);
    this.threads?.paramsChanged();
    this.rng.setState(s.rng);
    this.version = s.version;
  }
}

/** A learner's resumable state (`Learner.exportState` / `importState`). */
export interface LearnerState {
  params: Float64Array;
  adam: AdamState;
  rng: RngState;
  version: number;
}
