/**
 * The learner's pure-JavaScript training pass: the forward pass of model/forward.ts
 * (`mlpForward`) over n rows keeping every layer's activations, and the matching backward pass (reverse-mode, by hand) that turns
 * d loss / d logits and d loss / d values into d loss / d params in the flat layout of
 * params.ts (policy layers, then value layers; each W row-major in x out, then b). It is the
 * fast replacement for tf.grad over model/tf.ts and must agree with it (test/unit/learner/
 * lossJs.test.ts). All buffers live in a `Workspace` reused across calls: once its capacity
 * covers n, neither pass allocates. The dense-layer kernels run as WebAssembly SIMD
 * (model/gemmWasm.ts, buffers in the module's memory) when it loads, else as plain JS
 * (model/gemm.ts); the two give the same products bit for bit and tanh within a few ulp.
 */
import type { ModelSpec } from './spec.js';
import { layerOffsets, logStdOffset, paramCount, type LayerSlice } from './params.js';
import { backTanh, gradW } from './gemm.js';
import { DenseMode, WasmKernels, wasmKernelsAvailable } from './gemmWasm.js';
import { JS_DENSE, mlpForward, type DenseKernel } from './forward.js';

/** Which dense-layer kernels a Workspace uses: 'wasm' (SIMD, the default where it loads) or 'js'. */
export type KernelKind = 'wasm' | 'js';

/** 'wasm' when the WebAssembly kernels load here, else 'js'. */
export function defaultKernels(): KernelKind {
  return wasmKernelsAvailable() ? 'wasm' : 'js';
}

/** Preallocated buffers for `forwardTrain` / `backward` (and the loss in learner/lossJs.ts). */
export class Workspace {
  /** Rows the buffers hold; `reserve` grows it. */
  maxN = 0;
  /** Rows of the last `forwardTrain` (what `backward` differentiates). */
  n = 0;
  readonly policy: LayerSlice[];
  readonly value: LayerSlice[];
  readonly count: number;
  /** obs as float64 (maxN x obsDim). */
  x = new Float64Array(0);
  /** Outputs of each policy / value layer (tanh applied on hidden layers; last = logits / values). */
  actsP: Float64Array[] = [];
  actsV: Float64Array[] = [];
  /** Two ping-pong buffers for d loss / d pre-activation (maxN x widest layer). */
  deltaA = new Float64Array(0);
  deltaB = new Float64Array(0);
  /** d loss / d logits (maxN x nActions) and d loss / d values (maxN), filled by the loss. */
  dLogits = new Float64Array(0);
  dValues = new Float64Array(0);
  /** Per-row scratch for the loss (maxN): the log-softmax normaliser logSumExp of each logits row. */
  rowLse = new Float64Array(0);
  /** d loss / d params (paramCount; a Gaussian head's log standard deviations last, written by the loss, not by `backward`). */
  readonly grad: Float64Array;
  /** d loss / d the head's own params (a Gaussian's log standard deviations; model/distributions.ts), filled by the loss. */
  readonly dHead: Float64Array;
  /** The kernels in use. */
  readonly kernels: KernelKind;
  /** The dense-layer kernel the forward pass runs on (model/forward.ts `mlpForward`). */
  readonly denseKernel: DenseKernel;
  /** With 'wasm': the instance whose memory holds every buffer above but `grad`. */
  readonly wasm: WasmKernels | null;
  /** With 'wasm': params copied in (paramCount), d loss / d params, and W^T of one layer. */
  wasmParams: Float64Array = new Float64Array(0);
  wasmGrad: Float64Array = new Float64Array(0);
  wasmWt: Float64Array = new Float64Array(0);
  /**
   * With 'wasm': the array whose values `forwardTrain` copied into `wasmParams` (null when none
   * or the memory grew since). `backward` runs at the params of the last forward pass (its
   * contract), so it skips copying them in again when it is handed the same array.
   */
  wasmParamsFrom: Float64Array | null = null;
  /**
   * With 'wasm', optional: W^T of every layer of `transposedLayers(spec)`, each at its layer's
   * wOffset (paramCount elements), at the params of the next `backward`: it copies them in
   * instead of transposing (learner/threads.ts keeps them in step with the params, computed
   * once per step by all threads; null: `backward` transposes).
   */
  sharedTransposes: Float64Array | null = null;
  private readonly widest: number;

  /** Buffers for `spec` and up to `maxN` rows (grown on demand by `reserve`), on `kernels`. */
  constructor(
    readonly spec: ModelSpec,
    maxN = 256,
    kernels: KernelKind = defaultKernels(),
  ) {
    const layers = layerOffsets(spec);
    this.policy = layers.filter((l) => l.net === 'policy');
    this.value = layers.filter((l) => l.net === 'value');
    this.count = paramCount(spec);
    this.grad = new Float64Array(this.count);
    this.dHead = new Float64Array(this.count - logStdOffset(spec));
    this.widest = Math.max(spec.obsDim, spec.nActions, ...spec.hidden);
    this.kernels = kernels;
    const wasm = kernels === 'wasm' ? new WasmKernels() : null;
    this.wasm = wasm;
    this.denseKernel =
      wasm === null
        ? JS_DENSE
        : {
            dense: (L, P, x, out, n) =>
              wasm.dense(
                P.subarray(L.wOffset, L.wOffset + L.inDim * L.outDim),
                P.subarray(L.bOffset, L.bOffset + L.outDim),
                L.inDim,
                L.outDim,
                x,
                out,
                n,
                L.isOutput ? DenseMode.identity : DenseMode.tanh,
                null,
              ),
          };
    this.reserve(maxN);
  }

  /** Make room for n rows; allocates only when n exceeds the current capacity. */
  reserve(n: number): void {
    if (n <= this.maxN) return;
    const s = this.spec;
    this.maxN = n;
    // One ordered list of buffer lengths; on wasm they are laid out in the module's memory.
    const wasm = this.wasm;
    const maxW = Math.max(...[...this.policy, ...this.value].map((L) => L.inDim * L.outDim));
    const lengths = [
      ...(wasm === null ? [] : [this.count, this.count, maxW]),
      n * s.obsDim,
      ...this.policy.map((L) => n * L.outDim),
      ...this.value.map((L) => n * L.outDim),
      n * this.widest,
      n * this.widest,
      n * s.nActions,
      n,
      n,
    ];
    const views = wasm === null ? lengths.map((len) => new Float64Array(len)) : wasm.views(lengths);
    let i = 0;
    const next = (): Float64Array<ArrayBuffer> => views[i++];
    if (wasm !== null) {
      this.wasmParamsFrom = null;
      this.wasmParams = next();
      this.wasmGrad = next();
      this.wasmWt = next();
    }
    this.x = next();
    this.actsP = this.policy.map(next);
    this.actsV = this.value.map(next);
    this.deltaA = next();
    this.deltaB = next();
    this.dLogits = next();
    this.dValues = next();
    this.rowLse = next();
  }

  /** Logits of the last `forwardTrain` (n x nActions, valid for its n rows). */
  get logits(): Float64Array {
    return this.actsP[this.actsP.length - 1];
  }

  /** Values of the last `forwardTrain` (n, valid for its n rows). */
  get values(): Float64Array {
    return this.actsV[this.actsV.length - 1];
  }
}

/**
 * Forward pass of both networks over n rows of obs (row-major n x obsDim), in float64,
 * keeping every layer's output in `ws` for `backward`. Afterwards `ws.logits` (n x nActions)
 * and `ws.values` (n) hold the outputs. Throws a RangeError when params or obs are too short
 * (a caller bug); NaN or infinite inputs propagate into the outputs without a throw.
 */
export function forwardTrain(spec: ModelSpec, params: Float64Array, obs: Float32Array, n: number, ws: Workspace): void {
  if (
    ws.spec !== spec &&
    (ws.spec.obsDim !== spec.obsDim ||
      ws.spec.nActions !== spec.nActions ||
      ws.spec.hidden.join() !== spec.hidden.join() ||
      (ws.spec.head ?? 'categorical') !== (spec.head ?? 'categorical'))
  ) {
    throw new RangeError('workspace was built for a different model spec');
  }
  if (params.length !== ws.count) throw new RangeError(`params has ${params.length} elements, model spec needs ${ws.count}`);
  if (obs.length < n * spec.obsDim) throw new RangeError(`obs has ${obs.length} floats, need n * obsDim = ${n * spec.obsDim}`);
  ws.reserve(n);
  ws.n = n;
  const x = ws.x;
  const m = n * spec.obsDim;
  for (let i = 0; i < m; i++) x[i] = obs[i];
  // On wasm the kernels read the params from the module's memory: copy them in.
  let P = params;
  if (ws.wasm !== null) {
    ws.wasmParams.set(params);
    ws.wasmParamsFrom = params;
    P = ws.wasmParams;
  }
  mlpForward(ws.policy, ws.denseKernel, P, x, ws.actsP, n);
  mlpForward(ws.value, ws.denseKernel, P, x, ws.actsV, n);
}

/**
 * One layer backward. `delta` = d loss / d z (n x out). Writes dW = inp^T delta and db =
 * sum_r delta into grad; when `dPrev` is given, writes d loss / d z of the previous (tanh)
 * layer, (delta W^T) * (1 - inp^2).
 */
function denseBackward(
  L: LayerSlice,
  params: Float64Array,
  inp: Float64Array,
  delta: Float64Array,
  dPrev: Float64Array | null,
  grad: Float64Array,
  n: number,
): void {
  const od = L.outDim;
  biasGrad(delta, grad, L.bOffset, od, n);
  gradW(inp, delta, grad, L.wOffset, L.inDim, od, n);
  if (dPrev !== null) backTanh(params, L.wOffset, L.inDim, od, delta, inp, dPrev, n);
}

/**
 * Backward pass after `forwardTrain` with the same params and ws: given dLogits (n x
 * nActions) and dValues (n) = d loss / d outputs for the n rows of that forward pass, writes
 * d loss / d params into `grad` (paramCount elements, overwritten). dLogits and dValues are
 * read only (they may be ws.dLogits / ws.dValues). Allocates nothing.
 */
export function backward(
  spec: ModelSpec,
  params: Float64Array,
  ws: Workspace,
  dLogits: Float64Array,
  dValues: Float64Array,
  grad: Float64Array,
): void {
  const n = ws.n;
  if (grad.length !== ws.count) throw new RangeError(`grad has ${grad.length} elements, model spec needs ${ws.count}`);
  if (dLogits.length < n * spec.nActions || dValues.length < n)
    throw new RangeError(`dLogits / dValues hold fewer than the ${n} rows of the last forwardTrain`);
  if (ws.wasm !== null) {
    // The kernels read their inputs from the module's memory: copy the output gradients in
    // (a no-op when they are ws.dLogits / ws.dValues already) and the params (unless the forward
    // pass copied the same array in: backward runs at the forward pass's params); the gradient
    // is assembled there and copied out.
    if (dLogits !== ws.dLogits) ws.dLogits.set(dLogits.subarray(0, n * spec.nActions));
    if (dValues !== ws.dValues) ws.dValues.set(dValues.subarray(0, n));
    if (ws.wasmParamsFrom !== params) ws.wasmParams.set(params);
    ws.wasmParamsFrom = params;
    mlpBackwardWasm(ws.wasm, ws.policy, ws.actsP, ws.dLogits, ws, n);
    mlpBackwardWasm(ws.wasm, ws.value, ws.actsV, ws.dValues, ws, n);
    grad.set(ws.wasmGrad);
    return;
  }
  mlpBackward(ws.policy, ws.actsP, dLogits, params, ws, grad, n);
  mlpBackward(ws.value, ws.actsV, dValues, params, ws, grad, n);
}

/** mlpBackward on the wasm kernels: d-input through a tanh layer is dense(delta, W^T) * (1 - H^2). */
function mlpBackwardWasm(k: WasmKernels, layers: LayerSlice[], acts: Float64Array[], dOut: Float64Array, ws: Workspace, n: number): void {
  const P = ws.wasmParams;
  const G = ws.wasmGrad;
  let delta: Float64Array = dOut;
  let spare = ws.deltaA;
  for (let l = layers.length - 1; l >= 0; l--) {
    const L = layers[l];
    const I = L.inDim;
    const J = L.outDim;
    const inp = l === 0 ? ws.x : acts[l - 1];
    k.colSum(delta, G.subarray(L.bOffset, L.bOffset + J), J, n);
    k.gradW(inp, delta, G.subarray(L.wOffset, L.wOffset + I * J), I, J, n);
    if (l === 0) break;
    const Wt = ws.wasmWt;
    const T = ws.sharedTransposes;
    if (T !== null) Wt.set(T.subarray(L.wOffset, L.wOffset + I * J));
    else transpose(P, L.wOffset, I, J, Wt);
    k.dense(Wt, null, J, I, delta, spare, n, DenseMode.tanhGrad, inp);
    delta = spare;
    spare = spare === ws.deltaA ? ws.deltaB : ws.deltaA;
  }
}

/** The layers whose W^T the wasm backward pass needs: every layer but the first of each network. */
export function transposedLayers(spec: ModelSpec): LayerSlice[] {
  const layers = layerOffsets(spec);
  return [layers.filter((l) => l.net === 'policy'), layers.filter((l) => l.net === 'value')].flatMap((net) => net.slice(1));
}

/**
 * The elements [lo, hi) of the flat parameters P that lie in a layer of `layers`, transposed
 * into T at that layer's wOffset (T[wOffset + j I + i] = W[i, j]): a range of the full
 * transposes, so that threads can each write theirs.
 */
export function transposeRange(layers: LayerSlice[], P: ArrayLike<number>, T: Float64Array, lo: number, hi: number): void {
  for (const L of layers) {
    const I = L.inDim,
      J = L.outDim,
      off = L.wOffset;
    const a = Math.max(lo, off),
      b = Math.min(hi, off + I * J);
    if (a >= b) continue;
    let i = Math.floor((a - off) / J),
      j = a - off - i * J;
    for (let p = a; p < b; p++) {
      T[off + j * I + i] = P[p];
      if (++j === J) {
        j = 0;
        i++;
      }
    }
  }
}

/** Wt (J x I) = the transpose of the I x J matrix at P[off..]. */
export function transpose(P: ArrayLike<number>, off: number, I: number, J: number, Wt: Float64Array): void {
  for (let i = 0; i < I; i++) {
    const row = off + i * J;
    for (let j = 0; j < J; j++) Wt[j * I + i] = P[row + j];
  }
}

/** grad[bOff + j] = sum_r delta[r, j] (assigned). */
function biasGrad(delta: Float64Array, grad: Float64Array, bOff: number, od: number, n: number): void {
  for (let j = 0; j < od; j++) grad[bOff + j] = 0;
  for (let r = 0, o = 0; r < n; r++, o += od) {
    for (let j = 0; j < od; j++) grad[bOff + j] += delta[o + j];
  }
}

function mlpBackward(
  layers: LayerSlice[],
  acts: Float64Array[],
  dOut: Float64Array,
  params: Float64Array,
  ws: Workspace,
  grad: Float64Array,
  n: number,
): void {
  let delta: Float64Array = dOut;
  let spare = ws.deltaA;
  for (let l = layers.length - 1; l >= 0; l--) {
    const inp = l === 0 ? ws.x : acts[l - 1];
    const dPrev = l === 0 ? null : spare;
    denseBackward(layers[l], params, inp, delta, dPrev, grad, n);
    if (dPrev !== null) {
      spare = dPrev === ws.deltaA ? ws.deltaB : ws.deltaA;
      delta = dPrev;
    }
  }
}
