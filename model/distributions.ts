/**
 * The action distributions of the policy head, in one place: the categorical head (discrete
 * actions, and the sequence tasks' per-token softmax over the vocabulary) and the diagonal
 * Gaussian head (box actions, a state-independent learned log standard deviation per
 * dimension, CleanRL ppo_continuous_action.py). Each head says how to sample (collection,
 * evaluation), its log-probability and entropy (batch building, both loss paths), their
 * float64 gradients with respect to the policy network's output and the head's own parameters
 * (learner/lossJs.ts and the gradient shards), and the same log-probability and entropy as
 * tfjs expressions (the `--grad tfjs` path and the test oracle).
 *
 * Adding a head: a class implementing `ActionDistribution` here, one entry in `HEADS`.
 *
 * Per-row calls work on the policy output `out` (rows x outDim; logits or means) at row r and
 * on the flat parameter vector (model/params.ts; the head's own parameters at `paramOffset`).
 * `norm` is a per-row number the head computes once (`normalizer`) and is handed back: the
 * log-softmax normaliser for the categorical head, 0 for the Gaussian (NaN when a log standard
 * deviation is not finite).
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { ModelSpec } from './spec.js';
import type { Rng } from './rng.js';
import { tfjs } from './backend.js';
import { logStdOffset } from './params.js';

/** The stored actions of a batch or segment: indices (`actions`) or n x A floats (`boxActions`). */
export interface ActionArrays {
  actions: Int32Array;
  boxActions?: Float32Array | undefined;
}

/** The actions of one head: an index per row (Int32Array) or `actionDim` floats per row (Float32Array). */
export type ActionBuffer = Int32Array | Float32Array;

export interface ActionDistribution {
  readonly kind: HeadKind;
  /** Floats per row of the policy network's output (logits, or the Gaussian's mean). */
  readonly outDim: number;
  /** Numbers per stored action: 1 (an index) or A (a box action). */
  readonly actionDim: number;
  /** Whether actions travel as `boxActions` (floats) rather than `actions` (indices). */
  readonly box: boolean;
  /** Offset of the head's own parameters in the flat vector (after the value network), and their count. */
  readonly paramOffset: number;
  readonly nParams: number;

  /** Empty action arrays for n rows, in the field this head uses. */
  newActions(n: number): ActionArrays;
  /** This head's actions of `src` (n rows); throws a RangeError when they are missing or short. */
  actionsOf(src: ActionArrays, n: number): ActionBuffer;

  /**
   * Draw one action per row of `out` (n rows) into `actions` and its log-probability into
   * `logp` (log mu(a|s) when acting); greedy: the mode, no draw.
   */
  sample(
    out: Float32Array,
    n: number,
    params: ArrayLike<number>,
    rng: Rng,
    actions: ActionBuffer,
    logp: Float32Array,
    greedy?: boolean,
  ): void;

  /** The per-row number the other per-row calls take (see the module comment); NaN when not finite. */
  normalizer(out: ArrayLike<number>, r: number, params: ArrayLike<number>): number;
  /** Throws a RangeError when actions[r] is not an action of this head (the loss checks; acting never makes one). */
  checkAction(actions: ActionBuffer, r: number): void;
  /** log pi(actions[r] | row r); NaN or garbage for an action `checkAction` refuses. */
  logProb(out: ArrayLike<number>, r: number, params: ArrayLike<number>, actions: ActionBuffer, norm: number): number;
  /** Entropy (nats) of row r. */
  entropy(out: ArrayLike<number>, r: number, params: ArrayLike<number>, norm: number): number;
  /**
   * The gradient of -coef * H_r (H_r = `entropy`, h): writes it to dOut's row r (assigned)
   * and adds its part for the head's own parameters to dHead (nParams).
   */
  entropyGrad(
    out: ArrayLike<number>,
    r: number,
    params: ArrayLike<number>,
    norm: number,
    h: number,
    coef: number,
    dOut: Float64Array,
    dHead: Float64Array,
  ): void;
  /** Adds the gradient of s * log pi(actions[r] | row r) to dOut's row r and to dHead. */
  logProbGrad(
    out: ArrayLike<number>,
    r: number,
    params: ArrayLike<number>,
    actions: ActionBuffer,
    norm: number,
    s: number,
    dOut: Float64Array,
    dHead: Float64Array,
  ): void;

  /** tfjs: the actions of n rows as the tensor `logProbTf` takes. */
  actionsTensor(actions: ActionBuffer, n: number): TF.Tensor;
  /** tfjs: log pi(a_i | s_i) per row, differentiable in `out` and `flat` (the whole flat parameter vector). */
  logProbTf(out: TF.Tensor2D, flat: TF.Tensor1D, actions: TF.Tensor): TF.Tensor1D;
  /** tfjs: the mean entropy over rows. */
  entropyTf(out: TF.Tensor2D, flat: TF.Tensor1D): TF.Scalar;
}

// ---------------------------------------------------------------------------------------------
// Categorical

/**
 * log sum_k exp(x[o + k]) over the nA entries of a logits row starting at `o`, shifted by the
 * row max: the normaliser of the one log-softmax (log pi = x - logSumExp). NaN when the row
 * holds a NaN or an infinity.
 */
export function logSumExp(x: ArrayLike<number>, o: number, nA: number): number {
  let max = -Infinity;
  for (let k = 0; k < nA; k++) if (x[o + k] > max) max = x[o + k];
  let sum = 0;
  for (let k = 0; k < nA; k++) sum += Math.exp(x[o + k] - max);
  return max + Math.log(sum);
}

/** Entropy -sum_k p_k log p_k (nats) of the logits row at `o`, given its `lse` = logSumExp. */
export function rowEntropy(x: ArrayLike<number>, o: number, nA: number, lse: number): number {
  let h = 0;
  for (let k = 0; k < nA; k++) {
    const lp = x[o + k] - lse;
    h -= Math.exp(lp) * lp;
  }
  return h;
}

/** Mean over n rows of the entropy of softmax(logits row), in nats. */
export function entropyOf(logits: ArrayLike<number>, n: number, nActions: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const o = r * nActions;
    total += rowEntropy(logits, o, nActions, logSumExp(logits, o, nActions));
  }
  return n > 0 ? total / n : 0;
}

/** Index of the largest entry of the row at `o` (the first on ties; 0 when every entry is NaN). */
function argmaxRow(x: Float32Array, o: number, nA: number): number {
  let best = 0;
  for (let k = 1; k < nA; k++) if (x[o + k] > x[o + best]) best = k;
  return best;
}

/**
 * Draw one action per row from softmax(logits) by inverse CDF with one `rng.uniform()` per
 * row (greedy: argmax, first on ties, no draw). Writes actions and their log-softmax
 * log-probabilities (log mu(a|s) when acting) into the caller's buffers.
 */
export function sampleActions(
  logits: Float32Array,
  n: number,
  nActions: number,
  rng: Rng,
  outActions: Int32Array,
  outLogp: Float32Array,
  greedy = false,
): void {
  for (let r = 0; r < n; r++) {
    const o = r * nActions;
    const lse = logSumExp(logits, o, nActions);
    let a = -1;
    if (!greedy) {
      const u = rng.uniform();
      let cum = 0;
      let lastPositive = -1;
      for (let k = 0; k < nActions; k++) {
        const p = Math.exp(logits[o + k] - lse);
        if (p > 0) lastPositive = k;
        cum += p;
        if (u < cum) {
          a = k;
          break;
        }
      }
      if (a < 0) a = lastPositive; // rounding left u >= cum: take the last reachable action
    }
    if (a < 0) a = argmaxRow(logits, o, nActions);
    outActions[r] = a;
    outLogp[r] = logits[o + a] - lse;
  }
}

/**
 * tfjs: log pi(a_i | s_i) per row, as sum(logSoftmax(logits) * oneHot(actions)). Deliberately
 * not tf.gather: on the wasm backend gather with batch dims is wrong and has no gradient.
 * `actions` must be int32.
 */
export function logProbOf(logits: TF.Tensor2D, actions: TF.Tensor1D, nActions: number): TF.Tensor1D {
  const tf = tfjs();
  const oneHot = tf.oneHot(actions, nActions);
  return tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1);
}

/** tfjs: mean over rows of the entropy of softmax(logits), in nats. */
export function entropyOfTf(logits: TF.Tensor2D): TF.Scalar {
  const tf = tfjs();
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1)));
}

function needActions<T extends ActionBuffer>(a: T | undefined, len: number, what: string): T {
  if (a === undefined || a.length < len) throw new RangeError(`${what}: need ${len}, got ${a === undefined ? 'none' : a.length}`);
  return a;
}

/** Softmax over nActions logits; actions are indices. */
class Categorical implements ActionDistribution {
  readonly kind = 'categorical';
  readonly actionDim = 1;
  readonly box = false;
  readonly nParams = 0;
  readonly outDim: number;
  readonly paramOffset: number;
  constructor(spec: ModelSpec) {
    this.outDim = spec.nActions;
    this.paramOffset = logStdOffset(spec);
  }
  newActions(n: number): ActionArrays {
    return { actions: new Int32Array(n) };
  }
  actionsOf(src: ActionArrays, n: number): ActionBuffer {
    return needActions(src.actions, n, 'discrete actions');
  }
  sample(
    out: Float32Array,
    n: number,
    _params: ArrayLike<number>,
    rng: Rng,
    actions: ActionBuffer,
    logp: Float32Array,
    greedy = false,
  ): void {
    sampleActions(out, n, this.outDim, rng, actions as Int32Array, logp, greedy);
  }
  normalizer(out: ArrayLike<number>, r: number): number {
    return logSumExp(out, r * this.outDim, this.outDim);
  }
  checkAction(actions: ActionBuffer, r: number): void {
    const a = actions[r];
    if (!(a >= 0 && a < this.outDim)) throw new RangeError(`actions[${r}] = ${a}: expected an integer in [0, ${this.outDim})`);
  }
  logProb(out: ArrayLike<number>, r: number, _params: ArrayLike<number>, actions: ActionBuffer, lse: number): number {
    return out[r * this.outDim + actions[r]] - lse;
  }
  entropy(out: ArrayLike<number>, r: number, _params: ArrayLike<number>, lse: number): number {
    return rowEntropy(out, r * this.outDim, this.outDim, lse);
  }
  entropyGrad(
    out: ArrayLike<number>,
    r: number,
    _params: ArrayLike<number>,
    lse: number,
    h: number,
    coef: number,
    dOut: Float64Array,
  ): void {
    // dH/dz_k = -p_k (log p_k + H).
    const nA = this.outDim;
    const o = r * nA;
    for (let k = 0; k < nA; k++) {
      const lp = out[o + k] - lse;
      dOut[o + k] = coef * Math.exp(lp) * (lp + h);
    }
  }
  logProbGrad(
    out: ArrayLike<number>,
    r: number,
    _params: ArrayLike<number>,
    actions: ActionBuffer,
    lse: number,
    s: number,
    dOut: Float64Array,
  ): void {
    // d logp_a / dz_k = onehot_k - p_k.
    const nA = this.outDim;
    const o = r * nA;
    for (let k = 0; k < nA; k++) dOut[o + k] -= s * Math.exp(out[o + k] - lse);
    dOut[o + actions[r]] += s;
  }
  actionsTensor(actions: ActionBuffer, n: number): TF.Tensor {
    return tfjs().tensor1d(actions.subarray(0, n) as Int32Array, 'int32');
  }
  logProbTf(out: TF.Tensor2D, _flat: TF.Tensor1D, actions: TF.Tensor): TF.Tensor1D {
    return logProbOf(out, actions as TF.Tensor1D, this.outDim);
  }
  entropyTf(out: TF.Tensor2D): TF.Scalar {
    return entropyOfTf(out);
  }
}

// ---------------------------------------------------------------------------------------------
// Diagonal Gaussian

/** 0.5 * log(2 pi): the constant of a unit Gaussian's log-density. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log N(a | mean, exp(logStd)^2) of one diagonal Gaussian, summed over the A dimensions:
 * sum_j -0.5 ((a_j - mean_j) / sigma_j)^2 - logStd_j - 0.5 log(2 pi). `a` and `mean` are read
 * at offset `o`, logStd at `so`.
 */
export function gaussianLogProb(
  a: ArrayLike<number>,
  mean: ArrayLike<number>,
  o: number,
  logStd: ArrayLike<number>,
  so: number,
  A: number,
): number {
  let lp = 0;
  for (let j = 0; j < A; j++) {
    const ls = logStd[so + j];
    const z = (a[o + j] - mean[o + j]) / Math.exp(ls);
    lp -= 0.5 * z * z + ls + HALF_LOG_2PI;
  }
  return lp;
}

/** Entropy (nats) of a diagonal Gaussian: sum_j 0.5 (1 + log(2 pi)) + logStd_j; the same for every state. */
export function gaussianEntropy(logStd: ArrayLike<number>, so: number, A: number): number {
  let h = 0;
  for (let j = 0; j < A; j++) h += 0.5 + HALF_LOG_2PI + logStd[so + j];
  return h;
}

/**
 * Draw one action per row from the diagonal Gaussian N(mean row, exp(logStd)^2), unclipped,
 * with A `rng.normal()` draws per row (greedy: the mean, no draw), as CleanRL
 * ppo_continuous_action.py. Writes the float32 actions (n x A) and log-probabilities of the
 * stored float32 actions (log mu(a|s) when acting; summed over dimensions).
 */
export function sampleGaussianActions(
  mean: Float32Array,
  n: number,
  A: number,
  logStd: ArrayLike<number>,
  so: number,
  rng: Rng,
  outActions: Float32Array,
  outLogp: Float32Array,
  greedy = false,
): void {
  for (let r = 0; r < n; r++) {
    const o = r * A;
    for (let j = 0; j < A; j++) outActions[o + j] = greedy ? mean[o + j] : mean[o + j] + Math.exp(logStd[so + j]) * rng.normal();
    outLogp[r] = gaussianLogProb(outActions, mean, o, logStd, so, A);
  }
}

/**
 * tfjs: diagonal Gaussian log-density of box actions (n x A) under N(mean, exp(logStd)^2),
 * summed over dimensions: sum_j -0.5 ((a - mean) / sigma)^2 - logStd_j - 0.5 log(2 pi).
 */
export function gaussianLogProbTf(mean: TF.Tensor2D, logStd: TF.Tensor1D, actions: TF.Tensor2D): TF.Tensor1D {
  const tf = tfjs();
  const z = tf.div(tf.sub(actions, mean), tf.exp(logStd));
  const per = tf.add(tf.add(tf.mul(0.5, tf.square(z)), logStd), HALF_LOG_2PI);
  return tf.neg(tf.sum(per, 1));
}

/** tfjs: entropy of the diagonal Gaussian (the same for every state): sum_j 0.5 (1 + log(2 pi)) + logStd_j. */
export function gaussianEntropyTf(logStd: TF.Tensor1D): TF.Scalar {
  const tf = tfjs();
  return tf.sum(tf.add(logStd, 0.5 + HALF_LOG_2PI));
}

/** Diagonal Gaussian over A = nActions dimensions: the output is the mean, the log standard deviations are the head's A params. */
class Gaussian implements ActionDistribution {
  readonly kind = 'gaussian';
  readonly box = true;
  readonly outDim: number;
  readonly actionDim: number;
  readonly nParams: number;
  readonly paramOffset: number;
  constructor(spec: ModelSpec) {
    this.outDim = this.actionDim = this.nParams = spec.nActions;
    this.paramOffset = logStdOffset(spec);
  }
  newActions(n: number): ActionArrays {
    return { actions: new Int32Array(0), boxActions: new Float32Array(n * this.actionDim) };
  }
  actionsOf(src: ActionArrays, n: number): ActionBuffer {
    return needActions(src.boxActions, n * this.actionDim, `box actions of ${n} rows for the Gaussian head`);
  }
  sample(
    out: Float32Array,
    n: number,
    params: ArrayLike<number>,
    rng: Rng,
    actions: ActionBuffer,
    logp: Float32Array,
    greedy = false,
  ): void {
    sampleGaussianActions(out, n, this.actionDim, params, this.paramOffset, rng, actions as Float32Array, logp, greedy);
  }
  normalizer(_out: ArrayLike<number>, _r: number, params: ArrayLike<number>): number {
    let bad = 0; // x - x is NaN exactly when x is NaN or infinite
    for (let j = 0; j < this.nParams; j++) bad += params[this.paramOffset + j] - params[this.paramOffset + j];
    return bad;
  }
  checkAction(): void {} // every float vector is a box action (the env clips)
  logProb(out: ArrayLike<number>, r: number, params: ArrayLike<number>, actions: ActionBuffer): number {
    return gaussianLogProb(actions, out, r * this.actionDim, params, this.paramOffset, this.actionDim);
  }
  entropy(_out: ArrayLike<number>, _r: number, params: ArrayLike<number>): number {
    return gaussianEntropy(params, this.paramOffset, this.actionDim);
  }
  entropyGrad(
    _out: ArrayLike<number>,
    r: number,
    _params: ArrayLike<number>,
    _norm: number,
    _h: number,
    coef: number,
    dOut: Float64Array,
    dHead: Float64Array,
  ): void {
    // The entropy does not depend on the mean; d H / d logstd_j = 1.
    const A = this.actionDim;
    dOut.fill(0, r * A, (r + 1) * A);
    for (let j = 0; j < A; j++) dHead[j] -= coef;
  }
  logProbGrad(
    out: ArrayLike<number>,
    r: number,
    params: ArrayLike<number>,
    actions: ActionBuffer,
    _norm: number,
    s: number,
    dOut: Float64Array,
    dHead: Float64Array,
  ): void {
    // d logp / d mean_j = (a_j - mean_j) / sigma_j^2; d logp / d logstd_j = z_j^2 - 1.
    const A = this.actionDim;
    const o = r * A;
    for (let j = 0; j < A; j++) {
      const inv = Math.exp(-params[this.paramOffset + j]);
      const z = (actions[o + j] - out[o + j]) * inv;
      dOut[o + j] += s * z * inv;
      dHead[j] += s * (z * z - 1);
    }
  }
  private logStdTf(flat: TF.Tensor1D): TF.Tensor1D {
    return tfjs().slice(flat, [this.paramOffset], [this.nParams]);
  }
  actionsTensor(actions: ActionBuffer, n: number): TF.Tensor {
    return tfjs().tensor2d(actions.subarray(0, n * this.actionDim), [n, this.actionDim]);
  }
  logProbTf(out: TF.Tensor2D, flat: TF.Tensor1D, actions: TF.Tensor): TF.Tensor1D {
    return gaussianLogProbTf(out, this.logStdTf(flat), actions as TF.Tensor2D);
  }
  entropyTf(_out: TF.Tensor2D, flat: TF.Tensor1D): TF.Scalar {
    return gaussianEntropyTf(this.logStdTf(flat));
  }
}

// ---------------------------------------------------------------------------------------------

/** Every head: its constructor and how many parameters of its own it adds to the flat vector. */
export const HEADS = {
  categorical: { make: (spec: ModelSpec): ActionDistribution => new Categorical(spec), extraParams: (_spec: ModelSpec) => 0 },
  gaussian: { make: (spec: ModelSpec): ActionDistribution => new Gaussian(spec), extraParams: (spec: ModelSpec) => spec.nActions },
} as const;

/** The policy's action head: softmax over nActions logits, or a diagonal Gaussian over nActions dimensions. */
export type HeadKind = keyof typeof HEADS;

/** Whether `kind` names a head. */
export function isHeadKind(kind: unknown): kind is HeadKind {
  return typeof kind === 'string' && Object.hasOwn(HEADS, kind);
}

// Specs are treated as immutable: one distribution object per spec object.
const cache = new WeakMap<ModelSpec, ActionDistribution>();

/** The action distribution of `spec`'s head (categorical when `spec.head` is not set). */
export function distributionOf(spec: ModelSpec): ActionDistribution {
  let d = cache.get(spec);
  if (d === undefined) {
    d = HEADS[spec.head ?? 'categorical'].make(spec);
    cache.set(spec, d);
  }
  return d;
}
