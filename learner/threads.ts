/**
 * Data-parallel gradients on L worker threads (`--learner-threads L`, L >= 2): each minibatch
 * is split into L contiguous shards; worker i computes the gradient of the same loss on its
 * shard with the current parameters, and the shard gradients are added up in shard order
 * (each is already scaled by 1 / the minibatch size, so the sum is the sample-weighted mean).
 *
 * Everything big lives in SharedArrayBuffers written once and read in place by the workers:
 * the parameters (the main thread writes them before each minibatch), the update's batch
 * (written once per update), the minibatch's row indices, log w, g, and one gradient slot per
 * shard. Messages carry only a few numbers.
 *
 * Two phases per minibatch, because the weights are data computed over the WHOLE minibatch
 * (v3.1's gamma_ess is a minibatch statistic): 'fwd' (workers: forward pass, log w of their
 * rows into the shared log w) -> the main thread runs `computeWeights` once on all m rows ->
 * 'bwd' (workers: policy term with g, backward pass into their gradient slot). The worker keeps
 * its forward activations between the phases. The main thread only awaits: it keeps receiving,
 * decoding, publishing and acknowledging meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { workerFile } from '../infra/workerFile.js';
import type { ModelSpec } from '../model/spec.js';
import { paramCount } from '../model/params.js';
import { computeWeights, type WeightBatch } from './objectives/weights.js';
import { responseMeanLogRatio } from './advantages.js';
import { lossTerms, type LossForwardSums } from './lossJs.js';
import type { LossTerms } from './loss.js';
import type { Batch } from './batch.js';
import type { LearnerConfig } from './config.js';

/** Largest accepted --learner-threads. */
export const MAX_LEARNER_THREADS = 64;

/** Per-shard sums slot: entSum, vlSum, plSum, ok (1 = finite). */
export const SUM_FIELDS = 4;

/** The shared batch buffers (capacity `cap` rows). */
export interface SharedBatch {
  cap: number;
  obs: SharedArrayBuffer;
  actions: SharedArrayBuffer;
  logmu: SharedArrayBuffer;
  adv: SharedArrayBuffer;
  targets: SharedArrayBuffer;
  /** Row indices of the current minibatch (into the batch). */
  idx: SharedArrayBuffer;
  /** log w of the current minibatch (float64, minibatch order). */
  logRatio: SharedArrayBuffer;
  /** g of the current minibatch (float64, minibatch order). */
  g: SharedArrayBuffer;
}

/** Typed views of a SharedBatch's buffers, as both sides read and write them. */
export interface SharedBatchViews {
  obs: Float32Array;
  actions: Int32Array;
  logmu: Float32Array;
  adv: Float32Array;
  targets: Float32Array;
  idx: Int32Array;
  logRatio: Float64Array;
  g: Float64Array;
}

/** Views of `b`'s buffers (main thread and workers alike). */
export function batchViews(b: SharedBatch): SharedBatchViews {
  return {
    obs: new Float32Array(b.obs),
    actions: new Int32Array(b.actions),
    logmu: new Float32Array(b.logmu),
    adv: new Float32Array(b.adv),
    targets: new Float32Array(b.targets),
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

/** Messages main -> worker. */
export type ToWorker =
  | {
      op: 'init';
      shard: number;
      spec: ModelSpec;
      cfg: LearnerConfig;
      params: SharedArrayBuffer;
      grads: SharedArrayBuffer;
      sums: SharedArrayBuffer;
    }
  | { op: 'batch'; batch: SharedBatch }
  | { op: 'rowsBuffers'; rows: SharedRows }
  | { op: 'rows'; lo: number; hi: number }
  | { op: 'fwd'; lo: number; hi: number; invN: number }
  | { op: 'bwd' };

/** Messages worker -> main: the phase done, or the error it threw. */
export type FromWorker = { op: 'done' } | { op: 'error'; message: string };

/** One worker thread with a promise per request (one request in flight at a time). */
class ShardWorker {
  private readonly w: Worker;
  private pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(file: string) {
    this.w = new Worker(file);
    this.w.unref(); // idle workers do not keep the process alive; ref'd while a request runs
    this.w.on('message', (m: FromWorker) => this.settle(m.op === 'done' ? null : new Error(`learner thread: ${m.message}`)));
    this.w.on('error', (e: Error) => this.settle(e));
    this.w.on('exit', (code) => this.settle(new Error(`learner thread exited (code ${code})`)));
  }

  private settle(err: Error | null): void {
    const p = this.pending;
    this.pending = null;
    if (err !== null) this.failure ??= err;
    if (p === null) return;
    this.w.unref();
    if (err === null) p.resolve();
    else p.reject(err);
  }

  /** Post `msg` without waiting for a reply (init, batch). */
  post(msg: ToWorker): void {
    this.w.postMessage(msg);
  }

  /** Post `msg` and resolve when the worker has done it. */
  request(msg: ToWorker): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.w.ref();
      this.w.postMessage(msg);
    });
  }

  terminate(): Promise<number> {
    return this.w.terminate();
  }
}

/** Result of one minibatch on the threads: the summed gradient (owned by the pool) and the loss terms. */
export interface ThreadedGradient {
  grad: Float64Array;
  terms: LossTerms;
}

const NAN_TERMS: LossTerms = { total: NaN, policyLoss: NaN, valueLoss: NaN, entropy: NaN };

/** Time spent in one minibatch, ms: workers' forward and backward, and the all-reduce (summing). */
export interface ThreadTimes {
  gradMs: number;
  allReduceMs: number;
}

export class GradThreads {
  private readonly workers: ShardWorker[];
  private readonly count: number;
  private readonly params: Float64Array<SharedArrayBuffer>;
  private readonly grads: Float64Array<SharedArrayBuffer>;
  private readonly sums: Float64Array<SharedArrayBuffer>;
  private readonly grad: Float64Array;
  private shared: SharedBatch | null = null;
  private views: SharedBatchViews | null = null;
  private mbAdv = new Float32Array(0);
  /** `--ratio sequence`: the loaded batch's response id per row (null: a ratio per token). */
  private response: Int32Array | null = null;
  private rows: { cap: number; obs: Float32Array; logits: Float64Array; values: Float64Array } | null = null;
  private closed = false;
  /** Accumulated since the last `takeTimes`. */
  private times: ThreadTimes = { gradMs: 0, allReduceMs: 0 };

  /** Start `threads` (2..MAX_LEARNER_THREADS) workers for `spec`; the loss reads `cfg`. */
  constructor(
    private readonly spec: ModelSpec,
    private readonly cfg: LearnerConfig,
    readonly threads: number,
  ) {
    if (!Number.isInteger(threads) || threads < 2 || threads > MAX_LEARNER_THREADS) {
      throw new RangeError(
        `learner threads must be an integer in [2, ${MAX_LEARNER_THREADS}] for the worker pool, got ${threads} (1 runs in-process)`,
      );
    }
    this.count = paramCount(spec);
    this.params = new Float64Array(new SharedArrayBuffer(8 * this.count));
    this.grads = new Float64Array(new SharedArrayBuffer(8 * this.count * threads));
    this.sums = new Float64Array(new SharedArrayBuffer(8 * SUM_FIELDS * threads));
    this.grad = new Float64Array(this.count);
    const file = workerFile('learner', 'gradWorker');
    this.workers = Array.from({ length: threads }, (_, shard) => {
      const w = new ShardWorker(file);
      w.post({ op: 'init', shard, spec, cfg, params: this.params.buffer, grads: this.grads.buffer, sums: this.sums.buffer });
      return w;
    });
  }

  /**
   * The forward pass of `params` over `count` rows of `obs` (count x obsDim), split over the
   * threads: the batch-building pass (log-ratios, values for the advantages). Resolves to views
   * of the shared outputs, valid until the next call.
   */
  async forwardRows(params: Float64Array, obs: Float32Array, count: number): Promise<{ logits: Float64Array; values: Float64Array }> {
    if (this.closed) throw new Error('learner threads are closed');
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
      this.rows = {
        cap,
        obs: new Float32Array(shared.obs),
        logits: new Float64Array(shared.logits),
        values: new Float64Array(shared.values),
      };
      for (const w of this.workers) w.post({ op: 'rowsBuffers', rows: shared });
    }
    const R = this.rows;
    R.obs.set(obs.subarray(0, count * d));
    this.params.set(params);
    const L = this.threads;
    await Promise.all(
      this.workers.map((w, i) => w.request({ op: 'rows', lo: Math.floor((i * count) / L), hi: Math.floor(((i + 1) * count) / L) })),
    );
    return { logits: R.logits.subarray(0, count * nA), values: R.values.subarray(0, count) };
  }

  /** Copy an update's batch into shared memory (grown on demand; workers get new buffers then). */
  loadBatch(batch: Batch): void {
    const n = batch.n;
    const d = this.spec.obsDim;
    if (this.shared === null || this.shared.cap < n) {
      const cap = Math.max(n, 2 * (this.shared?.cap ?? 0));
      const sab = (bytes: number) => new SharedArrayBuffer(bytes);
      const s: SharedBatch = {
        cap,
        obs: sab(4 * cap * d),
        actions: sab(4 * cap),
        logmu: sab(4 * cap),
        adv: sab(4 * cap),
        targets: sab(4 * cap),
        idx: sab(4 * cap),
        logRatio: sab(8 * cap),
        g: sab(8 * cap),
      };
      this.shared = s;
      this.views = batchViews(s);
      this.mbAdv = new Float32Array(cap);
      for (const w of this.workers) w.post({ op: 'batch', batch: s });
    }
    const v = this.views!;
    v.obs.set(batch.obs.subarray(0, n * d));
    v.actions.set(batch.actions.subarray(0, n));
    v.logmu.set(batch.logmu.subarray(0, n));
    v.adv.set(batch.adv.subarray(0, n));
    v.targets.set(batch.targets.subarray(0, n));
    this.response = batch.response ?? null;
  }

  /**
   * Loss terms and gradient of the minibatch `rows` (indices into the loaded batch) at
   * `params`; the weights of the whole minibatch are written into `wts`. A non-finite number
   * anywhere gives terms.total = NaN (the caller skips the step). Rejects when a worker failed.
   */
  async gradient(params: Float64Array, rows: Int32Array, wts: WeightBatch): Promise<ThreadedGradient> {
    if (this.closed) throw new Error('learner threads are closed');
    const v = this.views;
    if (v === null) throw new Error('GradThreads.gradient before loadBatch');
    const m = rows.length;
    const L = this.threads;
    const t0 = performance.now();
    this.params.set(params);
    v.idx.set(rows);
    const invN = 1 / m;
    await Promise.all(
      this.workers.map((w, i) => w.request({ op: 'fwd', lo: Math.floor((i * m) / L), hi: Math.floor(((i + 1) * m) / L), invN })),
    );
    const S = this.sums;
    let ok = true;
    const fwd: LossForwardSums = { entSum: 0, vlSum: 0 };
    for (let i = 0; i < L; i++) {
      ok &&= S[i * SUM_FIELDS + 3] === 1;
      fwd.entSum += S[i * SUM_FIELDS];
      fwd.vlSum += S[i * SUM_FIELDS + 1];
    }
    if (!ok) {
      this.times.gradMs += performance.now() - t0;
      return { grad: this.grad, terms: NAN_TERMS };
    }
    // The weights, once, over the whole minibatch (v3.1: gamma_ess from all m rows).
    const adv = this.mbAdv.subarray(0, m);
    for (let r = 0; r < m; r++) adv[r] = v.adv[rows[r]];
    if (this.response !== null) {
      // --ratio sequence: each token takes its response's mean log-ratio, as on the in-process path.
      const resp = new Int32Array(m);
      for (let r = 0; r < m; r++) resp[r] = this.response[rows[r]];
      responseMeanLogRatio(v.logRatio.subarray(0, m), resp, m);
    }
    const g = computeWeights(this.cfg.objective, v.logRatio.subarray(0, m), adv, { n: m, out: wts }).g;
    v.g.set(g);
    await Promise.all(this.workers.map((w) => w.request({ op: 'bwd' })));
    const t1 = performance.now();
    // All-reduce: shard gradients summed in shard order (deterministic for a given L).
    const grad = this.grad;
    const C = this.count;
    grad.set(this.grads.subarray(0, C));
    let plSum = S[2];
    for (let i = 1; i < L; i++) {
      const gi = this.grads.subarray(i * C, (i + 1) * C);
      for (let j = 0; j < C; j++) grad[j] += gi[j];
      plSum += S[i * SUM_FIELDS + 2];
    }
    const t2 = performance.now();
    this.times.gradMs += t1 - t0;
    this.times.allReduceMs += t2 - t1;
    if (Number.isNaN(plSum)) return { grad, terms: NAN_TERMS };
    return { grad, terms: lossTerms(this.cfg, plSum * invN, fwd, invN) };
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
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
