/**
 * The actors' pure-JavaScript forward pass over the flat parameter vector (see params.ts for
 * the layout), plus categorical sampling. Hot path: float64 arithmetic inside, float32 out,
 * scratch buffers reused across calls and optional caller-owned output buffers, so a call
 * allocates nothing once warmed up. Must agree with model/tf.ts to 1e-5 in log-probabilities.
 */
import type { ModelSpec } from './spec.js';
import { layerOffsets, type LayerSlice } from './params.js';
import type { Rng } from './rng.js';
import { denseForward } from './gemm.js';

interface Compiled {
  policy: LayerSlice[];
  value: LayerSlice[];
  maxWidth: number;
}

// Specs are treated as immutable: the layout is computed once per spec object.
const compiled = new WeakMap<ModelSpec, Compiled>();
let bufA = new Float64Array(256);
let bufB = new Float64Array(256);

function compile(spec: ModelSpec): Compiled {
  let c = compiled.get(spec);
  if (c === undefined) {
    const layers = layerOffsets(spec);
    const maxWidth = Math.max(spec.obsDim, spec.nActions, ...spec.hidden);
    c = { policy: layers.filter((l) => l.net === 'policy'), value: layers.filter((l) => l.net === 'value'), maxWidth };
    compiled.set(spec, c);
  }
  if (bufA.length < 2 * c.maxWidth) {
    bufA = new Float64Array(2 * c.maxWidth);
    bufB = new Float64Array(2 * c.maxWidth);
  }
  return c;
}

/** Parameter vector accepted by the forward pass: the wire's float32, or a float64 copy (faster). */
export type ParamVector = Float32Array | Float64Array;

/**
 * One dense layer for `rows` (1 or 2) rows: rows of `a` at offsets 0 and S, into `b` likewise.
 * Two input rows per pass over the outputs (halves loads/stores of b) and, for a row pair,
 * each weight load serves both rows. The per-row arithmetic order does not depend on `rows`,
 * so a row's result is bit-identical whether it was computed alone or in a pair.
 */
function dense(L: LayerSlice, params: ParamVector, a: Float64Array, b: Float64Array, S: number, rows: number): void {
  const inDim = L.inDim;
  const od = L.outDim;
  const bOff = L.bOffset;
  const wOff = L.wOffset;
  for (let j = 0; j < od; j++) b[j] = params[bOff + j];
  if (rows === 2) for (let j = 0; j < od; j++) b[S + j] = params[bOff + j];
  let i = 0;
  if (rows === 2) {
    for (; i + 1 < inDim; i += 2) {
      const x0 = a[i];
      const x1 = a[i + 1];
      const y0 = a[S + i];
      const y1 = a[S + i + 1];
      const w0 = wOff + i * od;
      const w1 = w0 + od;
      for (let j = 0; j < od; j++) {
        const u = params[w0 + j];
        const v = params[w1 + j];
        b[j] += x0 * u + x1 * v;
        b[S + j] += y0 * u + y1 * v;
      }
    }
  } else {
    for (; i + 1 < inDim; i += 2) {
      const x0 = a[i];
      const x1 = a[i + 1];
      const w0 = wOff + i * od;
      const w1 = w0 + od;
      for (let j = 0; j < od; j++) b[j] += x0 * params[w0 + j] + x1 * params[w1 + j];
    }
  }
  if (i < inDim) {
    const w0 = wOff + i * od;
    for (let q = 0; q < rows; q++) {
      const x = a[q * S + i];
      const o = q * S;
      for (let j = 0; j < od; j++) b[o + j] += x * params[w0 + j];
    }
  }
  if (!L.isOutput) {
    for (let j = 0; j < od; j++) b[j] = Math.tanh(b[j]);
    if (rows === 2) for (let j = 0; j < od; j++) b[S + j] = Math.tanh(b[S + j]);
  }
}

/** Run one MLP (tanh hidden, linear output) over n rows of obs into out (n x outDim). */
function mlp(layers: LayerSlice[], params: ParamVector, obs: Float32Array, n: number, obsDim: number, S: number, out: Float32Array): void {
  const outDim = layers[layers.length - 1].outDim;
  for (let r = 0; r < n; r += 2) {
    const rows = r + 1 < n ? 2 : 1;
    let a = bufA;
    let b = bufB;
    for (let q = 0; q < rows; q++) {
      const o = (r + q) * obsDim;
      for (let i = 0; i < obsDim; i++) a[q * S + i] = obs[o + i];
    }
    for (let l = 0; l < layers.length; l++) {
      dense(layers[l], params, a, b, S, rows);
      const t = a;
      a = b;
      b = t;
    }
    for (let q = 0; q < rows; q++) {
      const ro = (r + q) * outDim;
      for (let j = 0; j < outDim; j++) out[ro + j] = a[q * S + j];
    }
  }
}

function checkSizes(spec: ModelSpec, obs: Float32Array, n: number, out: Float32Array, outDim: number): void {
  if (obs.length < n * spec.obsDim) throw new RangeError(`obs has ${obs.length} floats, need n * obsDim = ${n * spec.obsDim}`);
  if (out.length < n * outDim) throw new RangeError(`output buffer has ${out.length} floats, need ${n * outDim}`);
}

/**
 * Policy logits for n observations (row-major n x obsDim), written to `out` (n x nActions,
 * allocated when omitted) and returned. `params` may be a Float64Array copy of the float32
 * vector (same values, ~1.5x faster loop); callers acting many steps with one version make
 * that copy once.
 */
export function policyLogits(spec: ModelSpec, params: ParamVector, obs: Float32Array, n: number, out?: Float32Array): Float32Array {
  const c = compile(spec);
  const res = out ?? new Float32Array(n * spec.nActions);
  checkSizes(spec, obs, n, res, spec.nActions);
  mlp(c.policy, params, obs, n, spec.obsDim, c.maxWidth, res);
  return res;
}

// Whole-batch activations for policyLogitsBatch (n x maxWidth each), grown on demand.
let batchA = new Float64Array(0);
let batchB = new Float64Array(0);

/**
 * Policy logits for n observations like `policyLogits`, but each layer runs over the whole
 * batch in model/gemm.ts's register-blocked `denseForward` (~2x faster for n >= 8). Takes the
 * float64 copy of the parameters only. Each row is computed independently of the others (a
 * row's logits do not depend on n or on its neighbours); the sums run in a different order
 * than in `policyLogits`, so the float32 logits agree with it to float64 rounding (in practice
 * bit-identical, at most one float32 ulp apart). For policy evaluation; acting keeps
 * `policyLogits`, whose row-pair loop is faster for the actors' few envs per worker.
 */
export function policyLogitsBatch(spec: ModelSpec, params: Float64Array, obs: Float32Array, n: number, out?: Float32Array): Float32Array {
  const c = compile(spec);
  const res = out ?? new Float32Array(n * spec.nActions);
  checkSizes(spec, obs, n, res, spec.nActions);
  const need = n * c.maxWidth;
  if (batchA.length < need) {
    batchA = new Float64Array(need);
    batchB = new Float64Array(need);
  }
  let a = batchA;
  let b = batchB;
  const inFloats = n * spec.obsDim;
  for (let i = 0; i < inFloats; i++) a[i] = obs[i];
  for (const L of c.policy) {
    denseForward(params, L.wOffset, L.bOffset, L.inDim, L.outDim, a, b, n, !L.isOutput);
    const t = a;
    a = b;
    b = t;
  }
  const outFloats = n * spec.nActions;
  for (let i = 0; i < outFloats; i++) res[i] = a[i];
  return res;
}

/** State values V(s) for n observations, written to `out` (n, allocated when omitted). */
export function valuesOf(spec: ModelSpec, params: ParamVector, obs: Float32Array, n: number, out?: Float32Array): Float32Array {
  const c = compile(spec);
  const res = out ?? new Float32Array(n);
  checkSizes(spec, obs, n, res, 1);
  mlp(c.value, params, obs, n, spec.obsDim, c.maxWidth, res);
  return res;
}

/** Log-softmax of row `row` of logits (n x nActions) into `out` (float64, nActions). */
export function logSoftmaxRow(logits: Float32Array, row: number, nActions: number, out: Float64Array = new Float64Array(nActions)): Float64Array {
  const o = row * nActions;
  let max = -Infinity;
  for (let k = 0; k < nActions; k++) if (logits[o + k] > max) max = logits[o + k];
  let sum = 0;
  for (let k = 0; k < nActions; k++) sum += Math.exp(logits[o + k] - max);
  const lse = max + Math.log(sum);
  for (let k = 0; k < nActions; k++) out[k] = logits[o + k] - lse;
  return out;
}

/**
 * Draw one action per row from softmax(logits) by inverse CDF with one `rng.uniform()` per
 * row (greedy: argmax, first on ties, no draw). Writes actions and their log-softmax
 * log-probabilities (log mu(a|s) when acting) into the caller's buffers.
 */
export function sampleActions(logits: Float32Array, n: number, nActions: number, rng: Rng, outActions: Int32Array, outLogp: Float32Array, greedy = false): void {
  for (let r = 0; r < n; r++) {
    const o = r * nActions;
    let max = -Infinity;
    let argmax = 0;
    for (let k = 0; k < nActions; k++) {
      if (logits[o + k] > max) {
        max = logits[o + k];
        argmax = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < nActions; k++) sum += Math.exp(logits[o + k] - max);
    let a = argmax;
    if (!greedy) {
      const u = rng.uniform() * sum;
      let cum = 0;
      a = -1;
      let lastPositive = argmax;
      for (let k = 0; k < nActions; k++) {
        const p = Math.exp(logits[o + k] - max);
        if (p > 0) lastPositive = k;
        cum += p;
        if (u < cum) {
          a = k;
          break;
        }
      }
      if (a < 0) a = lastPositive; // rounding left u >= cum: take the last reachable action
    }
    outActions[r] = a;
    outLogp[r] = logits[o + a] - max - Math.log(sum);
  }
}

/** Mean over n rows of the entropy of softmax(logits row), in nats. */
export function entropyOf(logits: Float32Array, n: number, nActions: number): number {
  let total = 0;
  const lp = new Float64Array(nActions);
  for (let r = 0; r < n; r++) {
    logSoftmaxRow(logits, r, nActions, lp);
    for (let k = 0; k < nActions; k++) total -= Math.exp(lp[k]) * lp[k];
  }
  return n > 0 ? total / n : 0;
}
