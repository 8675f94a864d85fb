/**
 * The policy network's forward pass on the learner's dense kernel (model/grad.ts's Workspace:
 * WebAssembly SIMD where it loads, else plain JS), for the two places that need only the
 * policy's output over a few rows: the actor's per-step action choice (actor/collect.ts) and
 * the learner's recomputation of a rollout's log mu (learner/verify.ts). Both run this same
 * code, so an honest actor's log mu is recomputed bit for bit; the kernel's matrix products
 * equal model/gemm.ts's plain-JS ones and its tanh is within a few ulp of Math.tanh.
 *
 * Usage: `load(params)` once per parameter version, then `logits(...)` per batch of rows.
 * Buffers grow on demand and are reused; once warmed up a call allocates nothing.
 */
import type { ModelSpec } from './spec.js';
import { mlpForward } from './forward.js';
import { Workspace } from './grad.js';

export class PolicyForward {
  private readonly ws: Workspace;
  /** The loaded parameters, float64 (copied into the kernel's memory on wasm). */
  private readonly src: Float64Array;
  private loaded = false;

  constructor(
    readonly spec: ModelSpec,
    rows = 64,
  ) {
    this.ws = new Workspace(spec, rows);
    this.src = new Float64Array(this.ws.count);
  }

  /** The parameters as the kernel reads them. */
  private get P(): Float64Array {
    return this.ws.wasm !== null ? this.ws.wasmParams : this.src;
  }

  /** Use `params` (the flat vector of model/params.ts) for the next calls. */
  load(params: Float32Array | Float64Array): void {
    if (params.length !== this.ws.count) throw new RangeError(`params has ${params.length} floats, model spec needs ${this.ws.count}`);
    this.src.set(params);
    if (this.ws.wasm !== null) this.ws.wasmParams.set(this.src);
    this.loaded = true;
  }

  /**
   * Policy outputs (logits, or a Gaussian's mean) of `rows` rows of `obs` (row-major x
   * obsDim): rows idx[0..rows) when `idx` is given, else the first `rows`; written to `out`
   * (rows x nActions) rounded to float32, as model/forward.ts `policyLogits` gives them.
   */
  logits(obs: Float32Array, rows: number, out: Float32Array, idx: Int32Array | null = null): Float32Array {
    if (!this.loaded) throw new Error('PolicyForward: no parameters loaded');
    const d = this.spec.obsDim,
      A = this.spec.nActions;
    if (out.length < rows * A) throw new RangeError(`output buffer has ${out.length} floats, need ${rows * A}`);
    const ws = this.ws;
    if (ws.maxN < rows) {
      ws.reserve(rows);
      // Growing lays the kernel's buffers out anew: copy the parameters in again.
      if (ws.wasm !== null) ws.wasmParams.set(this.src);
    }
    const x = ws.x;
    if (idx === null) {
      if (obs.length < rows * d) throw new RangeError(`obs has ${obs.length} floats, need ${rows * d}`);
      for (let i = 0; i < rows * d; i++) x[i] = obs[i];
    } else
      for (let j = 0; j < rows; j++) {
        const o = idx[j] * d;
        for (let c = 0; c < d; c++) x[j * d + c] = obs[o + c];
      }
    const res = mlpForward(ws.policy, ws.denseKernel, this.P, x, ws.actsP, rows);
    const k = rows * A;
    for (let i = 0; i < k; i++) out[i] = res[i];
    return out;
  }
}
