/**
 * The one forward pass of the policy and value MLPs over the flat parameter vector (see
 * params.ts for the layout); what the policy output means (logits, a Gaussian's mean) and how
 * actions are drawn from it is model/distributions.ts. `mlpForward` runs
 * the layers on a dense-layer kernel: model/gemm.ts in plain JS (actors, evaluation) or its
 * WebAssembly build (the learner's Workspace, model/grad.ts); the tfjs model/tf.ts is only the
 * autodiff path and test oracle. Float64 arithmetic inside, float32 out for the actors;
 * scratch buffers are reused, so a call allocates nothing once warmed up.
 */
import type { ModelSpec } from './spec.js';
import { layerOffsets, paramCount, type LayerSlice } from './params.js';
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
