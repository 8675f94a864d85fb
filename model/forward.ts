/**
 * The one forward pass of the policy and value MLPs over the flat parameter vector (see
 * params.ts for the layout), the one log-softmax, and categorical sampling. `mlpForward` runs
 * the layers on a dense-layer kernel: model/gemm.ts in plain JS (actors, evaluation) or its
 * WebAssembly build (the learner's Workspace, model/grad.ts); the tfjs model/tf.ts is only the
 * autodiff path and test oracle. Float64 arithmetic inside, float32 out for the actors;
 * scratch buffers are reused, so a call allocates nothing once warmed up.
 */
import type { ModelSpec } from './spec.js';
import { layerOffsets, paramCount, type LayerSlice } from './params.js';
import type { Rng } from './rng.js';
import { denseForward } from './gemm.js';

/** A dense-layer kernel: out = act(x W + b) over n rows of layer L, W and b read from P. */
export interface DenseKernel {
  dense(L: LayerSlice, P: Float64Array, x: Float64Array, out: Float64Array, n: number): void;
}

/** model/gemm.ts's register-blocked JS kernel (tanh on hidden layers, identity on the output). */
export const JS_DENSE: DenseKernel = {
  dense: (L, P, x, out, n) => denseForward(P, L.wOffset, L.bOffset, L.inDim, L.outDim, x, out, n, !L.isOutput),
};

/**
 * The forward pass of one MLP (tanh hidden layers, linear output) over n rows of x: layer l
 * reads the previous layer's output and writes outs[l]. Returns the last output (n x outDim).
 * Each row is computed independently of the others, so a row's result does not depend on n.
 */
export function mlpForward(
  layers: readonly LayerSlice[],
  kernel: DenseKernel,
  P: Float64Array,
  x: Float64Array,
  outs: readonly Float64Array[],
  n: number,
): Float64Array {
  let inp = x;
  for (let l = 0; l < layers.length; l++) {
    kernel.dense(layers[l], P, inp, outs[l], n);
    inp = outs[l];
  }
  return inp;
}

interface Compiled {
  policy: LayerSlice[];
  value: LayerSlice[];
  maxWidth: number;
  count: number;
}

// Specs are treated as immutable: the layout is computed once per spec object.
const compiled = new WeakMap<ModelSpec, Compiled>();
// Scratch of the actor-side calls: float64 params (when given float32), input rows and two
// ping-pong activation buffers (layer l writes pingPong[l]), grown on demand.
let p64 = new Float64Array(0);
let xBuf = new Float64Array(0);
let pingPong: Float64Array[] = [];

function compile(spec: ModelSpec): Compiled {
  let c = compiled.get(spec);
  if (c === undefined) {
    const layers = layerOffsets(spec);
    const maxWidth = Math.max(spec.obsDim, spec.nActions, ...spec.hidden);
    c = {
      policy: layers.filter((l) => l.net === 'policy'),
      value: layers.filter((l) => l.net === 'value'),
      maxWidth,
      count: paramCount(spec),
    };
    compiled.set(spec, c);
  }
  return c;
}

/** Parameter vector accepted by the forward pass: the wire's float32, or a float64 copy (no conversion). */
export type ParamVector = Float32Array | Float64Array;

function checkSizes(spec: ModelSpec, obs: Float32Array, n: number, out: Float32Array, outDim: number): void {
  if (obs.length < n * spec.obsDim) throw new RangeError(`obs has ${obs.length} floats, need n * obsDim = ${n * spec.obsDim}`);
  if (out.length < n * outDim) throw new RangeError(`output buffer has ${out.length} floats, need ${n * outDim}`);
}

/** One network of `spec` over n rows of obs into out (n x outDim, float32), on the JS kernel. */
function run(
  spec: ModelSpec,
  c: Compiled,
  layers: LayerSlice[],
  params: ParamVector,
  obs: Float32Array,
  n: number,
  out: Float32Array,
): void {
  let P: Float64Array;
  if (params instanceof Float64Array) P = params;
  else {
    if (p64.length < params.length) p64 = new Float64Array(params.length);
    P = p64;
    P.set(params);
  }
  const need = n * c.maxWidth;
  if (xBuf.length < need) xBuf = new Float64Array(need);
  if (pingPong.length < layers.length || pingPong[0].length < need) {
    const a = new Float64Array(need);
    const b = new Float64Array(need);
    pingPong = Array.from({ length: Math.max(layers.length, pingPong.length) }, (_, l) => (l % 2 === 0 ? a : b));
  }
  const m = n * spec.obsDim;
  for (let i = 0; i < m; i++) xBuf[i] = obs[i];
  const res = mlpForward(layers, JS_DENSE, P, xBuf, pingPong, n);
  const outFloats = n * layers[layers.length - 1].outDim;
  for (let i = 0; i < outFloats; i++) out[i] = res[i];
}

/**
 * Policy logits for n observations (row-major n x obsDim), written to `out` (n x nActions,
 * allocated when omitted) and returned. `params` may be the float32 vector or a Float64Array
 * copy of it (same values and results; callers acting many steps with one version make that
 * copy once and skip a conversion per call).
 */
export function policyLogits(spec: ModelSpec, params: ParamVector, obs: Float32Array, n: number, out?: Float32Array): Float32Array {
  const c = compile(spec);
  if (params.length !== c.count) throw new RangeError(`params has ${params.length} floats, model spec needs ${c.count}`);
  const res = out ?? new Float32Array(n * spec.nActions);
  checkSizes(spec, obs, n, res, spec.nActions);
  run(spec, c, c.policy, params, obs, n, res);
  return res;
}

/** State values V(s) for n observations, written to `out` (n, allocated when omitted). */
export function valuesOf(spec: ModelSpec, params: ParamVector, obs: Float32Array, n: number, out?: Float32Array): Float32Array {
  const c = compile(spec);
  if (params.length !== c.count) throw new RangeError(`params has ${params.length} floats, model spec needs ${c.count}`);
  const res = out ?? new Float32Array(n);
  checkSizes(spec, obs, n, res, 1);
  run(spec, c, c.value, params, obs, n, res);
  return res;
}

/**
 * log sum_k exp(x[o + k]) over the nA entries of a logits row starting at `o`, shifted by the
 * row max: the normaliser of the one log-softmax (log pi = x - logSumExp). NaN when the row
 * holds a NaN or an infinity.
 */
export function logSumExp(x: Float32Array | Float64Array, o: number, nA: number): number {
  let max = -Infinity;
  for (let k = 0; k < nA; k++) if (x[o + k] > max) max = x[o + k];
  let sum = 0;
  for (let k = 0; k < nA; k++) sum += Math.exp(x[o + k] - max);
  return max + Math.log(sum);
}

/** Entropy -sum_k p_k log p_k (nats) of the logits row at `o`, given its `lse` = logSumExp. */
export function rowEntropy(x: Float32Array | Float64Array, o: number, nA: number, lse: number): number {
  let h = 0;
  for (let k = 0; k < nA; k++) {
    const lp = x[o + k] - lse;
    h -= Math.exp(lp) * lp;
  }
  return h;
}

/** Log-softmax of row `row` of logits (n x nActions) into `out` (float64, nActions). */
export function logSoftmaxRow(
  logits: Float32Array | Float64Array,
  row: number,
  nActions: number,
  out: Float64Array = new Float64Array(nActions),
): Float64Array {
  const o = row * nActions;
  const lse = logSumExp(logits, o, nActions);
  for (let k = 0; k < nActions; k++) out[k] = logits[o + k] - lse;
  return out;
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

/** Mean over n rows of the entropy of softmax(logits row), in nats. */
export function entropyOf(logits: Float32Array | Float64Array, n: number, nActions: number): number {
  let total = 0;
  for (let r = 0; r < n; r++) {
    const o = r * nActions;
    total += rowEntropy(logits, o, nActions, logSumExp(logits, o, nActions));
  }
  return n > 0 ? total / n : 0;
}

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
