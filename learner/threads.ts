/**
 * The learner's gradient on L threads (`--learner-threads L`, L >= 2): the main thread and
 * L - 1 pinned worker threads (infra/pinnedWorker.ts), each computing one shard. Shard 0 runs
 * on the main thread, so L threads compute and none idles.
 *
 * Everything big lives in SharedArrayBuffers read in place: the parameters (the learner's
 * master copy itself: Adam steps them in place, nothing is copied per minibatch), the update's
 * batch (written once per update), the minibatch's row indices, log w and g, one gradient slot
 * and one sums slot per shard. A minibatch is synchronised by a shared-memory store and a
 * futex wake per worker (`Atomics.notify`); the worker spins briefly, then parks in
 * `Atomics.wait`. The main thread computes its own shard, then waits for the workers (a few
 * microseconds' spin, then `Atomics.wait`) for at most as long as its own shard took (the
 * workers started at the same time on the same amount of work), then awaits them with
 * `Atomics.waitAsync` (the event loop runs).
 *
 * Modes (`--learner-parallel`):
 * - exact (the default): each minibatch is cut into L contiguous shards; the update is the
 *   in-process one to float rounding of the sum over shards, for every L.
 *   - One phase for every method whose weights g(w_i, A_i) are per sample: each shard runs the
 *     single-thread loss (`lossAndGradJs`, categorical or Gaussian head) on its rows, and its
 *     gradient and loss terms are scaled by rows / m.
 *   - Two phases when the weights need a minibatch statistic: v3.1's gamma_ess, and
 *     `--ratio sequence`'s per-response mean log-ratio: 'fwd' (`lossForwardJs`: log w of the
 *     shard's rows) -> `computeWeights` once over all m rows on the main thread -> 'bwd'
 *     (`lossBackwardJs` with g). The Gaussian head has no split loss (learner/lossJs.ts), so
 *     v3.1 with a box env computes its minibatch on the main thread alone (exact, unscaled).
 * - data: each of up to L threads takes a whole minibatch of the configured size; the
 *   gradients (and loss terms) are averaged into one optimiser step, so an epoch takes
 *   ceil(minibatches / L) steps of an effective batch L x the minibatch size.
 * Gradients are reduced in shard order (deterministic for a given L). With many parameters
 * (PARALLEL_OPT_MIN and up) the optimiser's work is split over the threads by parameter range
 * too: the reduction with each range's sum of squares (the clipping norm: the ranges' sums
 * added in range order), then the Adam step (elementwise, so bit-identical to one thread's;
 * the moments live in shared memory). Below that, the main thread does both alone (two more
 * synchronisations cost more than they save).
 */
import { workerFile } from '../infra/workerFile.js';
import { PinnedWorker } from '../infra/pinnedWorker.js';
import { headOf, type ModelSpec } from '../model/spec.js';
import { paramCount } from '../model/params.js';
import { forwardTrain, transposedLayers, transposeRange, Workspace } from '../model/grad.js';
import type { LayerSlice } from '../model/params.js';
import { computeWeights, WeightBatch } from './objectives/weights.js';
import { responseMeanLogRatio } from './advantages.js';
import { ADAM_BETA1, ADAM_BETA2, FlatAdam } from './adam.js';
import { lossAndGradJs, lossBackwardJs, lossForwardJs, lossTerms, type LossForwardSums } from './lossJs.js';
import type { LossTerms } from './loss.js';
import type { Batch } from './batch.js';
import type { LearnerConfig } from './config.js';

/** Largest accepted --learner-threads. */
export const MAX_LEARNER_THREADS = 64;

/**
 * Per-shard sums slot: entropy, value, policy, ok (1 = finite), total, sum of squares of a
 * reduced range, and the factor its gradient slot enters the sum with.
 */
export const SUM_FIELDS = 7;
const S_ENT = 0,
  S_VAL = 1,
  S_POL = 2,
  S_OK = 3,
  S_TOT = 4,
  S_SQ = 5,
  S_SCALE = 6;

/** Request op codes (main -> shard). */
export const ShardOp = {
  /** Batch-building forward pass over rows [lo, hi) of the shared rows buffers. */
  Rows: 0,
  /**
   * One-phase loss and gradient of minibatch positions [lo, hi), scaled by (hi - lo) x
   * floats[0]. floats[1] = 1: the shared transposes are at the current params (One and Bwd).
   */
  One: 1,
  /** Two-phase, first half: log w of positions [lo, hi) (invN = floats[0]). */
  Fwd: 2,
  /** Two-phase, second half: the gradient with the shared g. */
  Bwd: 3,
  /**
   * Sum the first floats[0] shard gradient slots over parameters [lo, hi) into the shared
   * output gradient, and the sum of squares of that range into this shard's sums slot.
   */
  Reduce: 4,
  /**
   * The Adam step of parameters [lo, hi) from the shared output gradient (floats lr, scale, c1,
   * c2), then the shared transposes of that range at the new params.
   */
  Adam: 5,
} as const;
export type ShardOp = (typeof ShardOp)[keyof typeof ShardOp];

/** The shared batch buffers (capacity `cap` rows). */
export interface SharedBatch {
  cap: number;
  /** Actions per row of `box` (the Gaussian head), 0 for discrete actions. */
  boxDim: number;
  obs: SharedArrayBuffer;
  actions: SharedArrayBuffer;
  box: SharedArrayBuffer;
  logmu: SharedArrayBuffer;
  adv: SharedArrayBuffer;
  targets: SharedArrayBuffer;
  /** Response id per row (`--ratio sequence`). */
  response: SharedArrayBuffer;
  /** Row indices of the current minibatch(es) (into the batch). */
  idx: SharedArrayBuffer;
  /** log w of the current minibatch positions (float64, minibatch order; clamped log w after a one-phase pass). */
  logRatio: SharedArrayBuffer;
  /** g of the current minibatch positions (float64, minibatch order). */
  g: SharedArrayBuffer;
}

/** Typed views of a SharedBatch's buffers, as both sides read and write them. */
export interface SharedBatchViews {
  boxDim: number;
  obs: Float32Array;
  actions: Int32Array;
  box: Float32Array;
  logmu: Float32Array;
  adv: Float32Array;
  targets: Float32Array;
  response: Int32Array;
  idx: Int32Array;
  logRatio: Float64Array;
  g: Float64Array;
}

/** Views of `b`'s buffers (main thread and workers alike). */
export function batchViews(b: SharedBatch): SharedBatchViews {
  return {
    boxDim: b.boxDim,
    obs: new Float32Array(b.obs),
    actions: new Int32Array(b.actions),
    box: new Float32Array(b.box),
    logmu: new Float32Array(b.logmu),
    adv: new Float32Array(b.adv),
    targets: new Float32Array(b.targets),
    response: new Int32Array(b.response),
    idx: new Int32Array(b.idx),
    logRatio: new Float64Array(b.logRatio),
    g: new Float64Array(b.g),
  };
}

/** The shared buffers of the batch-building forward pass (capacity `cap` rows). */
export interface SharedRows {
  cap: number;
  /** Observations (float32, cap x obsDim). */
  obs: SharedArrayBuffer;
  /** Outputs (float64): logits (cap x nActions) and values (cap). */
  logits: SharedArrayBuffer;
  values: SharedArrayBuffer;
}

interface RowsViews {
  cap: number;
  obs: Float32Array;
  logits: Float64Array;
  values: Float64Array;
}

function rowsViews(r: SharedRows): RowsViews {
  return { cap: r.cap, obs: new Float32Array(r.obs), logits: new Float64Array(r.logits), values: new Float64Array(r.values) };
}

/** What a shard worker is started with. */
export interface ShardInit {
  shard: number;
  threads: number;
  spec: ModelSpec;
  cfg: LearnerConfig;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  grad: SharedArrayBuffer;
  sums: SharedArrayBuffer;
  /** Adam's first and second moments (float64, one per parameter). */
  adamM: SharedArrayBuffer;
  adamV: SharedArrayBuffer;
  /** W^T of the layers the wasm backward pass transposes (model/grad.ts `transposedLayers`), at their wOffset. */
  transposes: SharedArrayBuffer;
}

/** Structured messages main -> shard worker (new shared buffers, sent when they grow). */
export type ShardMessage = { op: 'batch'; batch: SharedBatch } | { op: 'rows'; rows: SharedRows };

function emptyBatch(rows: number, d: number, boxDim: number): Batch {
  return {
    n: 0,
    obs: new Float32Array(rows * d),
    actions: new Int32Array(rows),
    ...(boxDim > 0 ? { boxActions: new Float32Array(rows * boxDim) } : {}),
    logmu: new Float32Array(rows),
    adv: new Float32Array(rows),
    targets: new Float32Array(rows),
    lag: new Int32Array(0),
    logRatio: new Float64Array(0),
    entropy: 0,
  };
}

/**
 * One shard's computation, the same code on the main thread (shard 0) and in the workers
 * (learner/gradWorker.ts): gathers its rows of the shared batch into preallocated buffers and
 * runs learner/lossJs.ts on them, writing into its gradient and sums slots.
 */
export class Shard {
  private readonly ws: Workspace;
  private readonly wts = new WeightBatch(64);
  private readonly params: Float64Array;
  /** This shard's gradient slot. */
  private readonly grad: Float64Array;
  /** All slots (for Reduce) and the reduced gradient. */
  private readonly grads: Float64Array;
  private readonly out: Float64Array;
  private readonly sums: Float64Array;
  /** Every shard's sums slot (the reduction reads their scales). */
  private readonly allSums: Float64Array;
  private readonly count: number;
  private readonly threads: number;
  private readonly adam: FlatAdam;
  private readonly transposes: Float64Array;
  private readonly transposed: LayerSlice[];
  private mb: Batch;
  private mbResponse = new Int32Array(0);
  private src: SharedBatchViews | null = null;
  private rowsBuf: RowsViews | null = null;
  private lo = 0;
  private invN = 1;

  constructor(
    readonly index: number,
    private readonly spec: ModelSpec,
    private readonly cfg: LearnerConfig,
    init: Pick<ShardInit, 'params' | 'grads' | 'grad' | 'sums' | 'threads' | 'adamM' | 'adamV' | 'transposes'>,
  ) {
    this.count = paramCount(spec);
    this.threads = init.threads;
    this.params = new Float64Array(init.params);
    this.grads = new Float64Array(init.grads);
    this.grad = new Float64Array(init.grads, 8 * this.count * index, this.count);
    this.out = new Float64Array(init.grad);
    this.sums = new Float64Array(init.sums, 8 * SUM_FIELDS * index, SUM_FIELDS);
    this.allSums = new Float64Array(init.sums);
    this.ws = new Workspace(spec, 64);
    this.mb = emptyBatch(64, spec.obsDim, 0);
    this.adam = new FlatAdam(this.count, ADAM_BETA1, ADAM_BETA2, cfg.adamEps, {
      m: new Float64Array(init.adamM),
      v: new Float64Array(init.adamV),
    });
    this.transposes = new Float64Array(init.transposes);
    this.transposed = transposedLayers(spec);
  }

  message(m: ShardMessage): void {
    if (m.op === 'batch') this.src = batchViews(m.batch);
    else this.rowsBuf = rowsViews(m.rows);
  }

  /** Run `op` on [lo, hi) with x = floats[0] (the other floats: the Adam step's). */
  run(op: ShardOp, lo: number, hi: number, x: number, floats: ArrayLike<number> = [x]): void {
    // The backward pass copies the shared transposes in when they are at the current params.
    if (op === ShardOp.One || op === ShardOp.Bwd) this.ws.sharedTransposes = floats[1] === 1 ? this.transposes : null;
    switch (op) {
      case ShardOp.Rows:
        return this.rows(lo, hi);
      case ShardOp.One:
        return this.one(lo, hi, x);
      case ShardOp.Fwd:
        return this.fwd(lo, hi, x);
      case ShardOp.Bwd:
        return this.bwd();
      case ShardOp.Reduce:
        return this.reduce(lo, hi, x);
      case ShardOp.Adam:
        this.adam.stepRange(this.params, this.out, floats[0], floats[1], { c1: floats[2], c2: floats[3] }, lo, hi);
        transposeRange(this.transposed, this.params, this.transposes, lo, hi);
        return;
      default:
        throw new Error(`unknown shard op ${String(op)}`);
    }
  }

  /** Gather minibatch positions [lo, hi) of the shared batch into this.mb (no allocation once grown). */
  private gather(lo: number, hi: number, withResponse: boolean): Batch {
    const src = this.src;
    if (src === null) throw new Error('shard: no batch loaded');
    const n = hi - lo;
    const d = this.spec.obsDim;
    const A = src.boxDim;
    if (this.mb.logmu.length < n || (this.mb.boxActions?.length ?? 0) !== this.mb.logmu.length * A) {
      this.mb = emptyBatch(Math.max(n, this.mb.logmu.length), d, A);
    }
    const mb = this.mb;
    mb.n = n;
    const { obs, actions, logmu, adv, targets } = mb;
    const box = mb.boxActions;
    for (let k = 0; k < n; k++) {
      const i = src.idx[lo + k];
      for (let c = 0; c < d; c++) obs[k * d + c] = src.obs[i * d + c];
      if (box === undefined) actions[k] = src.actions[i];
      else for (let c = 0; c < A; c++) box[k * A + c] = src.box[i * A + c];
      logmu[k] = src.logmu[i];
      adv[k] = src.adv[i];
      targets[k] = src.targets[i];
    }
    if (withResponse) {
      if (this.mbResponse.length < n) this.mbResponse = new Int32Array(Math.max(n, 2 * this.mbResponse.length));
      const r = this.mbResponse.subarray(0, n);
      for (let k = 0; k < n; k++) r[k] = src.response[src.idx[lo + k]];
      mb.response = r;
    } else delete mb.response;
    return mb;
  }

  /** The batch-building forward pass over rows [lo, hi). */
  private rows(lo: number, hi: number): void {
    const R = this.rowsBuf;
    if (R === null) throw new Error('shard: no rows buffers');
    const n = hi - lo;
    if (n === 0) return;
    const d = this.spec.obsDim,
      nA = this.spec.nActions;
    forwardTrain(this.spec, this.params, R.obs.subarray(lo * d, hi * d), n, this.ws);
    R.logits.set(this.ws.logits.subarray(0, n * nA), lo * nA);
    R.values.set(this.ws.values.subarray(0, n), lo);
  }

  /**
   * One phase: the single-thread loss (`lossAndGradJs`) of positions [lo, hi) as a minibatch
   * of its own, its gradient and terms scaled by its share of all positions, (hi - lo) x
   * `invM` (rows / m exactly; 1 / parts in data mode); clamped log w and g written to the
   * shared buffers at [lo, hi).
   */
  private one(lo: number, hi: number, invM: number): void {
    const s = this.sums;
    const n = hi - lo;
    const scale = n * invM;
    s[S_OK] = 1;
    s[S_SCALE] = scale;
    if (n === 0) {
      this.grad.fill(0);
      s[S_ENT] = s[S_VAL] = s[S_POL] = s[S_TOT] = 0;
      return;
    }
    const mb = this.gather(lo, hi, this.src!.response.length > 0);
    // The gradient straight into this shard's slot, unscaled and unchecked: the reduction
    // multiplies by the scale (the same product as scaling here) and a non-finite element
    // makes the summed gradient's norm non-finite (the learner skips the step).
    const r = lossAndGradJs(this.spec, this.cfg, this.params, mb, this.ws, this.wts, this.grad, false);
    if (!Number.isFinite(r.terms.total) || r.weights === null) {
      s[S_OK] = 0;
      return;
    }
    s[S_ENT] = scale * r.terms.entropy;
    s[S_VAL] = scale * r.terms.valueLoss;
    s[S_POL] = scale * r.terms.policyLoss;
    s[S_TOT] = scale * r.terms.total;
    const src = this.src!;
    src.logRatio.set(r.weights.logW.subarray(0, n), lo);
    src.g.set(r.weights.g.subarray(0, n), lo);
  }

  /** Two phases, first half: `lossForwardJs` of positions [lo, hi), log w into the shared log w. */
  private fwd(lo: number, hi: number, invN: number): void {
    const s = this.sums;
    const n = hi - lo;
    this.lo = lo;
    this.invN = invN;
    this.mb.n = 0;
    s[S_OK] = 1;
    s[S_ENT] = s[S_VAL] = 0;
    if (n === 0) return;
    const mb = this.gather(lo, hi, false);
    const r: LossForwardSums | null = lossForwardJs(
      this.spec,
      this.cfg,
      this.params,
      mb,
      this.ws,
      this.src!.logRatio.subarray(lo, hi),
      invN,
    );
    if (r === null) {
      s[S_OK] = 0;
      return;
    }
    s[S_ENT] = r.entSum;
    s[S_VAL] = r.vlSum;
  }

  /** Two phases, second half: `lossBackwardJs` with the shared g into this shard's gradient slot. */
  private bwd(): void {
    const n = this.mb.n;
    this.sums[S_SCALE] = 1;
    if (n === 0) {
      this.grad.fill(0);
      this.sums[S_POL] = 0;
      return;
    }
    const lo = this.lo;
    this.sums[S_POL] = lossBackwardJs(this.spec, this.params, this.mb, this.ws, this.src!.g.subarray(lo, lo + n), this.grad, this.invN);
  }

  /** out[j] = the first `active` shard slots times their scales, summed in shard order, for j in [lo, hi); the range's sum of squares into sums. */
  private reduce(lo: number, hi: number, active: number): void {
    this.sums[S_SQ] = reduceSlots(this.grads, this.allSums, this.count, active, this.out, lo, hi);
  }
}

/**
 * out[j] = sum over slots i < active, in slot order, of scale_i x G[i C + j], for j in [lo, hi)
 * (scale_i: sums slot i's S_SCALE); returns the range's sum of squares.
 */
function reduceSlots(G: Float64Array, sums: Float64Array, C: number, active: number, out: Float64Array, lo: number, hi: number): number {
  let sq = 0;
  const s0 = sums[S_SCALE];
  if (active === 2) {
    const s1 = sums[SUM_FIELDS + S_SCALE];
    for (let j = lo; j < hi; j++) {
      const g = s0 * G[j] + s1 * G[C + j];
      out[j] = g;
      sq += g * g;
    }
    return sq;
  }
  for (let j = lo; j < hi; j++) out[j] = s0 * G[j];
  for (let i = 1; i < active; i++) {
    const o = i * C,
      si = sums[i * SUM_FIELDS + S_SCALE];
    for (let j = lo; j < hi; j++) out[j] += si * G[o + j];
  }
  for (let j = lo; j < hi; j++) sq += out[j] * out[j];
  return sq;
}

/** Result of one minibatch on the threads: the summed gradient (owned by the pool) and the loss terms. */
export interface ThreadedGradient {
  grad: Float64Array;
  terms: LossTerms;
  /** The sum of squares of `grad` (the clipping norm squared). */
  sumSq: number;
}

const NAN_TERMS: LossTerms = { total: NaN, policyLoss: NaN, valueLoss: NaN, entropy: NaN };

/** Time spent in minibatches, ms: computing (and waiting for) the shards, and the all-reduce (summing). */
export interface ThreadTimes {
  gradMs: number;
  allReduceMs: number;
}

/** How long the main thread spins on the workers' done flags before it sleeps, ms. */
const SPIN_MS = 0.02;

/**
 * From this many parameters on, the threads share the optimiser's work by parameter range: the
 * summing of the gradient slots with the norm, and the Adam step (two more synchronisations
 * per minibatch, about a microsecond each while the workers still spin). Below, the main thread
 * does both alone. At [64, 64] (9k parameters) sharing them cut the 2-thread update from 2.60
 * to 2.37 ms (medians of interleaved runs, /tmp-style A/B in the session note of issue 20).
 */
export const PARALLEL_OPT_MIN = 4_096;

/** True when the threads share the optimiser's work for `spec` (see PARALLEL_OPT_MIN). */
export function parallelOptimiser(spec: ModelSpec): boolean {
  return paramCount(spec) >= PARALLEL_OPT_MIN;
}

export interface GradThreadsOptions {
  /** Microseconds an idle worker spins before it parks (default 50: the optimiser step between two minibatches at [64, 64]). */
  spinUs?: number;
}

export class GradThreads {
  /** The learner's master parameters, in shared memory: the workers read them in place. */
  readonly params: Float64Array;
  private readonly workers: PinnedWorker[];
  private readonly main: Shard;
  private readonly count: number;
  private readonly sums: Float64Array;
  private readonly grads: Float64Array;
  private readonly grad: Float64Array;
  private readonly gaussian: boolean;
  /** Adam's moments in shared memory (the learner's FlatAdam uses them; shards step ranges of them). */
  readonly moments: { m: Float64Array; v: Float64Array };
  /** The threads share the reduction, the norm and the Adam step (PARALLEL_OPT_MIN). */
  readonly parallelOptimiser: boolean;
  /** The shared transposes are at the current params (set by a shared Adam step; any other write of the params clears it). */
  private transposesValid = false;
  private shared: SharedBatch | null = null;
  private views: SharedBatchViews | null = null;
  private mbAdv = new Float32Array(0);
  private mbResp = new Int32Array(0);
  /** `--ratio sequence`: the loaded batch has response ids. */
  private hasResponse = false;
  private rows: RowsViews | null = null;
  private closed = false;
  private failure: Error | null = null;
  /** Accumulated since the last `takeTimes`. */
  private times: ThreadTimes = { gradMs: 0, allReduceMs: 0 };
  /**
   * Counters (tests, bench): synchronisations; those where the main thread stopped spinning and
   * awaited the workers; rows computed by the main thread's shard and by all shards; ms the
   * main thread spent on its shards (and serial work in them) and waiting for the workers.
   */
  readonly stats = { syncs: 0, awaited: 0, mainRows: 0, rows: 0, mainMs: 0, waitMs: 0 };

  /** Start `threads` (2..MAX_LEARNER_THREADS) shards (threads - 1 workers) for `spec`; the loss reads `cfg`. */
  constructor(
    private readonly spec: ModelSpec,
    private readonly cfg: LearnerConfig,
    readonly threads: number,
    opts: GradThreadsOptions = {},
  ) {
    if (!Number.isInteger(threads) || threads < 2 || threads > MAX_LEARNER_THREADS) {
      throw new RangeError(
        `learner threads must be an integer in [2, ${MAX_LEARNER_THREADS}] for the worker pool, got ${threads} (1 runs in-process)`,
      );
    }
    this.count = paramCount(spec);
    this.gaussian = headOf(spec) === 'gaussian';
    const init = {
      threads,
      params: new SharedArrayBuffer(8 * this.count),
      grads: new SharedArrayBuffer(8 * this.count * threads),
      grad: new SharedArrayBuffer(8 * this.count),
      sums: new SharedArrayBuffer(8 * SUM_FIELDS * threads),
      adamM: new SharedArrayBuffer(8 * this.count),
      adamV: new SharedArrayBuffer(8 * this.count),
      transposes: new SharedArrayBuffer(8 * this.count),
    };
    this.parallelOptimiser = this.count >= PARALLEL_OPT_MIN;
    this.moments = { m: new Float64Array(init.adamM), v: new Float64Array(init.adamV) };
    this.params = new Float64Array(init.params);
    this.grads = new Float64Array(init.grads);
    this.grad = new Float64Array(init.grad);
    this.sums = new Float64Array(init.sums);
    this.main = new Shard(0, spec, cfg, init);
    const file = workerFile('learner', 'gradWorker');
    const spinUs = opts.spinUs ?? 50;
    this.workers = Array.from(
      { length: threads - 1 },
      (_, i) =>
        new PinnedWorker(file, { ...init, shard: i + 1, spec, cfg } satisfies ShardInit, { spinUs, name: `learner shard ${i + 1}` }),
    );
  }

  private check(): void {
    if (this.closed) throw new Error('learner threads are closed');
    if (this.failure !== null) throw this.failure;
  }

  /**
   * Run `op` on shards: shard s gets [bounds(s), bounds(s + 1)) (shard 0 on this thread),
   * then wait for the workers: spin for as long as this thread's shard took, then await.
   * Rethrows the first shard's error (after every worker finished) and keeps it.
   */
  private async fanOut(
    op: ShardOp,
    bounds: (s: number) => number,
    x: number,
    active = this.threads,
    first?: () => void,
    floats: number[] = [x],
  ): Promise<void> {
    const W = this.workers;
    for (let s = 1; s < active; s++) {
      const w = W[s - 1];
      w.ints[0] = bounds(s);
      w.ints[1] = bounds(s + 1);
      for (let k = 0; k < floats.length; k++) w.floats[k] = floats[k];
      w.start(op);
    }
    this.stats.syncs++;
    if (op !== ShardOp.Reduce && op !== ShardOp.Adam) {
      this.stats.mainRows += bounds(1) - bounds(0);
      this.stats.rows += bounds(active) - bounds(0);
    }
    const t0 = performance.now();
    let err: unknown = null;
    try {
      first?.(); // serial work of this thread's own (the diagnostics) while the workers compute
      this.main.run(op, bounds(0), bounds(1), x, floats);
    } catch (e) {
      err = new Error(`learner shard 0: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Wait for the workers: they started with this thread on the same amount of work. Spin a
    // few microseconds (they usually finish together), then sleep in the kernel (Atomics.wait:
    // a notify wakes this thread at once, and the cores go to whoever computes) for at most as
    // long as this thread's own shard took, then await them without blocking the event loop.
    const t1 = performance.now();
    const budget = Math.max(0.05, t1 - t0);
    const busy = (): boolean => {
      for (let s = 1; s < active; s++) if (W[s - 1].busy) return true;
      return false;
    };
    let pending = busy();
    while (pending && performance.now() - t1 < SPIN_MS) pending = busy();
    for (let s = 1; s < active && pending; s++) {
      const left = budget - (performance.now() - t1);
      if (left <= 0) break;
      W[s - 1].waitSync(left);
    }
    pending = busy();
    this.stats.mainMs += t1 - t0;
    if (pending) {
      this.stats.awaited++;
      for (let s = 1; s < active; s++) await W[s - 1].wait();
    }
    this.stats.waitMs += performance.now() - t1;
    for (let s = 1; s < active; s++) {
      try {
        W[s - 1].finish();
      } catch (e) {
        err ??= e;
      }
    }
    if (err !== null) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw this.failure;
    }
  }

  /**
   * The forward pass of the parameters over `count` rows of `obs` (count x obsDim), split over
   * the threads: the batch-building pass (log-ratios, values for the advantages). Resolves to
   * views of the shared outputs, valid until the next call.
   */
  async forwardRows(obs: Float32Array, count: number): Promise<{ logits: Float64Array; values: Float64Array }> {
    this.check();
    const d = this.spec.obsDim,
      nA = this.spec.nActions;
    if (this.rows === null || this.rows.cap < count) {
      const cap = Math.max(count, 2 * (this.rows?.cap ?? 0));
      const shared: SharedRows = {
        cap,
        obs: new SharedArrayBuffer(4 * cap * d),
        logits: new SharedArrayBuffer(8 * cap * nA),
        values: new SharedArrayBuffer(8 * cap),
      };
      this.rows = rowsViews(shared);
      const m: ShardMessage = { op: 'rows', rows: shared };
      this.main.message(m);
      for (const w of this.workers) w.send(m);
    }
    const R = this.rows;
    R.obs.set(obs.subarray(0, count * d));
    const L = this.threads;
    await this.fanOut(ShardOp.Rows, (s) => Math.floor((s * count) / L), 0);
    return { logits: R.logits.subarray(0, count * nA), values: R.values.subarray(0, count) };
  }

  /** Copy an update's batch into shared memory (grown on demand; the shards get new buffers then). */
  loadBatch(batch: Batch): void {
    this.check();
    const n = batch.n;
    const d = this.spec.obsDim;
    const boxDim = this.gaussian ? this.spec.nActions : 0;
    const resp = batch.response !== undefined;
    if (this.shared === null || this.shared.cap < n || this.shared.response.byteLength > 0 !== resp) {
      const cap = Math.max(n, 2 * (this.shared?.cap ?? 0));
      const sab = (bytes: number) => new SharedArrayBuffer(bytes);
      const s: SharedBatch = {
        cap,
        boxDim,
        obs: sab(4 * cap * d),
        actions: sab(boxDim > 0 ? 0 : 4 * cap),
        box: sab(4 * cap * boxDim),
        logmu: sab(4 * cap),
        adv: sab(4 * cap),
        targets: sab(4 * cap),
        response: sab(resp ? 4 * cap : 0),
        idx: sab(4 * cap),
        logRatio: sab(8 * cap),
        g: sab(8 * cap),
      };
      this.shared = s;
      this.views = batchViews(s);
      this.mbAdv = new Float32Array(cap);
      this.mbResp = new Int32Array(resp ? cap : 0);
      const m: ShardMessage = { op: 'batch', batch: s };
      this.main.message(m);
      for (const w of this.workers) w.send(m);
    }
    const v = this.views!;
    v.obs.set(batch.obs.subarray(0, n * d));
    if (boxDim > 0) v.box.set(batch.boxActions!.subarray(0, n * boxDim));
    else v.actions.set(batch.actions.subarray(0, n));
    v.logmu.set(batch.logmu.subarray(0, n));
    v.adv.set(batch.adv.subarray(0, n));
    v.targets.set(batch.targets.subarray(0, n));
    if (resp) v.response.set(batch.response!.subarray(0, n));
    this.hasResponse = resp;
  }

  /**
   * Loss terms and gradient at the shared parameters of `parts` minibatches of the loaded
   * batch, `rows` their row indices one after the other (parts > 1: data parallelism, one
   * minibatch per thread, averaged; parts = 1: the one minibatch, sharded exactly). The
   * weights of all rows are written into `wts`, in `rows` order. A non-finite number anywhere
   * gives terms.total = NaN (the caller skips the step). Rejects when a shard failed. `first`
   * runs on this thread after the workers started, before its own shard (work that does not
   * touch the shared buffers, such as the batch's diagnostics).
   */
  async gradient(rows: Int32Array, wts: WeightBatch, parts = 1, first?: () => void): Promise<ThreadedGradient> {
    this.check();
    const v = this.views;
    if (v === null) throw new Error('GradThreads.gradient before loadBatch');
    const m = rows.length;
    const L = this.threads;
    if (!Number.isInteger(parts) || parts < 1 || parts > L || m % parts !== 0)
      throw new RangeError(`gradient: ${parts} parts of ${m} rows on ${L} threads`);
    const t0 = performance.now();
    v.idx.set(rows);
    const S = this.sums;
    const method = this.cfg.objective.method;
    const twoPhase = parts === 1 && (method === 'v3.1' || this.hasResponse);
    let active = L;
    let terms: LossTerms;
    if (!twoPhase || this.gaussian) {
      // One phase. Data mode: part s on shard s. Exact: L contiguous shards (or, for v3.1 with
      // a Gaussian head, the whole minibatch on this thread). Each shard scales by its rows / m.
      active = parts > 1 ? parts : twoPhase ? 1 : L;
      const a = active;
      await this.fanOut(ShardOp.One, (s) => Math.floor((Math.min(s, a) * m) / a), 1 / m, a, first, [1 / m, this.transposesValid ? 1 : 0]);
      let ok = true;
      let ent = 0,
        val = 0,
        pol = 0,
        tot = 0;
      for (let i = 0; i < active; i++) {
        const o = i * SUM_FIELDS;
        ok &&= S[o + S_OK] === 1;
        ent += S[o + S_ENT];
        val += S[o + S_VAL];
        pol += S[o + S_POL];
        tot += S[o + S_TOT];
      }
      if (!ok) return this.nan(t0);
      terms = { total: tot, policyLoss: pol, valueLoss: val, entropy: ent };
      // The weights the shards used (clamped log w, g), in rows order, for the quadrants.
      wts.resize(m, false, false);
      wts.logW.set(v.logRatio.subarray(0, m));
      wts.g.set(v.g.subarray(0, m));
    } else {
      const invN = 1 / m;
      const bounds = (s: number) => Math.floor((s * m) / L);
      await this.fanOut(ShardOp.Fwd, bounds, invN, L, first);
      let ok = true;
      const fwd: LossForwardSums = { entSum: 0, vlSum: 0 };
      for (let i = 0; i < L; i++) {
        ok &&= S[i * SUM_FIELDS + S_OK] === 1;
        fwd.entSum += S[i * SUM_FIELDS + S_ENT];
        fwd.vlSum += S[i * SUM_FIELDS + S_VAL];
      }
      if (!ok) return this.nan(t0);
      // The weights, once, over the whole minibatch (v3.1: gamma_ess from all m rows).
      const adv = this.mbAdv.subarray(0, m);
      for (let r = 0; r < m; r++) adv[r] = v.adv[rows[r]];
      const logRatio = v.logRatio.subarray(0, m);
      if (this.hasResponse) {
        // --ratio sequence: each token takes its response's mean log-ratio, as on the in-process path.
        const resp = this.mbResp.subarray(0, m);
        for (let r = 0; r < m; r++) resp[r] = v.response[rows[r]];
        responseMeanLogRatio(logRatio, resp, m);
      }
      v.g.set(computeWeights(this.cfg.objective, logRatio, adv, { n: m, out: wts }).g);
      await this.fanOut(ShardOp.Bwd, bounds, 0, L, undefined, [0, this.transposesValid ? 1 : 0]);
      let plSum = 0;
      for (let i = 0; i < L; i++) plSum += S[i * SUM_FIELDS + S_POL];
      if (Number.isNaN(plSum)) return this.nan(t0);
      terms = lossTerms(this.cfg, plSum * invN, fwd, invN);
    }
    const t1 = performance.now();
    const sumSq = await this.reduce(active);
    const t2 = performance.now();
    this.times.gradMs += t1 - t0;
    this.times.allReduceMs += t2 - t1;
    return { grad: this.grad, terms, sumSq };
  }

  private nan(t0: number): ThreadedGradient {
    this.times.gradMs += performance.now() - t0;
    return { grad: this.grad, terms: NAN_TERMS, sumSq: NaN };
  }

  /** Start of parameter range s of L (multiples of 8 parameters: one cache line, no false sharing). */
  private paramBound(s: number, L: number): number {
    return s >= L ? this.count : 8 * Math.floor((s * this.count) / (8 * L));
  }

  /** The sum of the first `active` gradient slots, in slot order, into `this.grad`; returns its sum of squares. */
  private async reduce(active: number): Promise<number> {
    const C = this.count,
      G = this.grads,
      out = this.grad;
    if (active > 1 && this.parallelOptimiser) {
      const L = this.threads;
      await this.fanOut(ShardOp.Reduce, (s) => this.paramBound(s, L), active);
      let sq = 0;
      for (let s = 0; s < L; s++) sq += this.sums[s * SUM_FIELDS + S_SQ];
      return sq;
    }
    return reduceSlots(G, this.sums, C, active, out, 0, C);
  }

  /**
   * One Adam step of `adam` (built on `this.moments`) on the shared parameters with `grad`
   * times `scale`: split over the threads by parameter range when they share the optimiser
   * (`grad` is then this pool's reduced gradient), else on this thread. Same result either way.
   */
  async adamStep(adam: FlatAdam, grad: Float64Array, lr: number, scale: number): Promise<void> {
    this.check();
    if (!this.parallelOptimiser || grad !== this.grad) {
      this.transposesValid = false;
      adam.step(this.params, grad, lr, scale);
      return;
    }
    const { c1, c2 } = adam.begin();
    const L = this.threads;
    this.transposesValid = false;
    await this.fanOut(ShardOp.Adam, (s) => this.paramBound(s, L), lr, L, undefined, [lr, scale, c1, c2]);
    this.transposesValid = true;
  }

  /** Call after writing `params` other than by `adamStep` (a resumed state): the shards transpose again until the next shared step. */
  paramsChanged(): void {
    this.transposesValid = false;
  }

  /** The time accumulated since the last call, and reset it. */
  takeTimes(): ThreadTimes {
    const t = this.times;
    this.times = { gradMs: 0, allReduceMs: 0 };
    return t;
  }

  /** Stop the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
