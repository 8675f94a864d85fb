/**
 * Layout of the flat float32 parameter vector shared by actors (pure-JS forward pass) and the
 * learner (tfjs on the same vector). Two separate tanh MLPs: the policy obsDim -> hidden... ->
 * nActions, then the value obsDim -> hidden... -> 1. Each layer stores W (in x out, row-major:
 * W[i * out + j]) followed by b (out). A Gaussian head (spec.head = 'gaussian') appends its
 * log standard deviation vector (nActions floats) after the value layers. Changing this layout
 * must bump LAYOUT_VERSION, which changes `modelHash` so old actors are rejected.
 */
import { headOf, type ModelSpec } from './spec.js';
import { fnv1a32 } from './hash.js';
import { HEADS, isHeadKind } from './distributions.js';
import { Rng } from './rng.js';

export const LAYOUT_VERSION = 1;

/** One dense layer's slice of the flat vector. */
export interface LayerSlice {
  net: 'policy' | 'value';
  /** Index of the layer inside its network, 0 = input layer. */
  index: number;
  /** True for the last layer of its network (no tanh after it). */
  isOutput: boolean;
  inDim: number;
  outDim: number;
  /** Offset of W (inDim * outDim floats, row-major in x out). */
  wOffset: number;
  /** Offset of b (outDim floats). */
  bOffset: number;
}

/** Layer widths of one network: [obsDim, ...hidden, outDim]. */
function widths(spec: ModelSpec, outDim: number): number[] {
  return [spec.obsDim, ...spec.hidden, outDim];
}

/** Throws a RangeError naming the field when a spec has non-positive or fractional sizes. */
export function checkModelSpec(spec: ModelSpec): void {
  const fields: [string, number][] = [
    ['obsDim', spec.obsDim],
    ['nActions', spec.nActions],
    ...spec.hidden.map((h, i): [string, number] => [`hidden[${i}]`, h]),
  ];
  for (const [name, v] of fields) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`model spec ${name} must be a positive integer, got ${v}`);
  }
  if (spec.head !== undefined && !isHeadKind(spec.head))
    throw new RangeError(`model spec head must be one of ${Object.keys(HEADS).join(', ')}, got ${String(spec.head)}`);
}

/** Slices of every layer in storage order: policy layers first, then value layers. */
export function layerOffsets(spec: ModelSpec): LayerSlice[] {
  checkModelSpec(spec);
  const out: LayerSlice[] = [];
  let off = 0;
  for (const net of ['policy', 'value'] as const) {
    const w = widths(spec, net === 'policy' ? spec.nActions : 1);
    for (let l = 0; l + 1 < w.length; l++) {
      const inDim = w[l];
      const outDim = w[l + 1];
      out.push({ net, index: l, isOutput: l + 2 === w.length, inDim, outDim, wOffset: off, bOffset: off + inDim * outDim });
      off += inDim * outDim + outDim;
    }
  }
  return out;
}

/** Offset of the head's own parameters (the Gaussian's log standard deviations, nActions floats): right after the value layers. */
export function logStdOffset(spec: ModelSpec): number {
  const layers = layerOffsets(spec);
  const last = layers[layers.length - 1];
  return last.bOffset + last.outDim;
}

/** Total number of floats in the flat vector for `spec`. */
export function paramCount(spec: ModelSpec): number {
  return logStdOffset(spec) + HEADS[headOf(spec)].extraParams(spec);
}

/**
 * u32 FNV-1a of a canonical string of the spec (sizes, head, the environment's `envKey`) and
 * the layout version; equal iff compatible.
 */
export function modelHash(spec: ModelSpec): number {
  checkModelSpec(spec);
  const head = headOf(spec) === 'categorical' ? '' : `|head=${headOf(spec)}`;
  const env = spec.envKey === undefined ? '' : `|env=${spec.envKey}`;
  return fnv1a32(
    `isreshape-mlp|layout=${LAYOUT_VERSION}|obs=${spec.obsDim}|act=${spec.nActions}|hidden=${spec.hidden.join(',')}|tanh|policy+value${head}${env}`,
  );
}

/**
 * A rows x cols matrix (row-major, float64) with orthonormal columns when rows >= cols, or
 * orthonormal rows when rows < cols, from modified Gram-Schmidt on a seeded normal matrix
 * (the Q of a QR decomposition with positive diag(R), as torch.nn.init.orthogonal_).
 */
export function orthogonal(rows: number, cols: number, rng: Rng): Float64Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols; // length of each vector
  const k = tall ? cols : rows; // number of orthonormal vectors
  const v = new Float64Array(k * m); // vector c at v[c * m ...]
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  for (let c = 0; c < k; c++) {
    const vc = v.subarray(c * m, (c + 1) * m);
    for (let pass = 0; pass < 2; pass++) {
      // Two passes of re-orthogonalisation keep float64 orthogonality at ~1e-15.
      for (let p = 0; p < c; p++) {
        const vp = v.subarray(p * m, (p + 1) * m);
        let dot = 0;
        for (let i = 0; i < m; i++) dot += vc[i] * vp[i];
        for (let i = 0; i < m; i++) vc[i] -= dot * vp[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += vc[i] * vc[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) vc[i] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < m; i++) {
      if (tall) out[i * cols + c] = v[c * m + i];
      else out[c * cols + i] = v[c * m + i];
    }
  }
  return out;
}

/**
 * Initial parameters as CleanRL PPO: orthogonal W with gain sqrt(2) on hidden layers, 0.01
 * on the policy output layer and 1.0 on the value output layer; all biases 0 (and a Gaussian
 * head's log standard deviations 0, as CleanRL ppo_continuous_action.py). Each layer
 * draws from its own substream of `Rng(seed)`, so the result depends only on spec and seed.
 */
export function initParams(spec: ModelSpec, seed: number | string): Float32Array {
  const layers = layerOffsets(spec);
  const params = new Float32Array(paramCount(spec));
  const root = new Rng(seed);
  layers.forEach((L, li) => {
    const gain = !L.isOutput ? Math.SQRT2 : L.net === 'policy' ? 0.01 : 1.0;
    const w = orthogonal(L.inDim, L.outDim, root.fork(li));
    for (let i = 0; i < w.length; i++) params[L.wOffset + i] = gain * w[i];
  });
  return params;
}
