/**
 * The WebAssembly SIMD build of the dense-layer kernels (model/kernels.wat, compiled into
 * model/kernels.wasm.ts by scripts/build-wasm.mjs). One `WasmKernels` owns one instance and its
 * memory; model/grad.ts lays a Workspace's buffers out in that memory and passes byte offsets
 * (a Float64Array view's `byteOffset`). The products are bit-identical to model/gemm.ts; tanh
 * comes from the module's own exp (within a few ulp of Math.tanh).
 */
import { KERNELS_WASM_BASE64 } from './kernels.wasm.js';

interface KernelExports {
  memory: WebAssembly.Memory;
  dense(w: number, b: number, hasBias: number, I: number, J: number, x: number, o: number, n: number, mode: number, h: number): void;
  gradW(x: number, d: number, g: number, I: number, J: number, n: number): void;
  colSum(d: number, out: number, J: number, n: number): void;
  tanh(x: number): number;
}

/** What `dense` applies to each output: identity, tanh, or times (1 - H^2). */
export const DenseMode = { identity: 0, tanh: 1, tanhGrad: 2 } as const;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null when this runtime cannot compile it (no WebAssembly SIMD). */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** True when the WebAssembly kernels load here (Node >= 16 has WebAssembly SIMD). */
export function wasmKernelsAvailable(): boolean {
  return kernelModule() !== null;
}

/** One instance of the kernels with its own linear memory. */
export class WasmKernels {
  private readonly k: KernelExports;

  /** Throws an Error naming the cause when the module cannot load (see wasmKernelsAvailable). */
  constructor() {
    const mod = kernelModule();
    if (mod === null) throw new Error('the WebAssembly SIMD kernels do not load in this runtime; use the JS kernels');
    this.k = new WebAssembly.Instance(mod, {}).exports as unknown as KernelExports;
  }

  /** Grow the memory to at least `bytes`. Growing detaches every earlier view: make new ones. */
  ensure(bytes: number): void {
    const have = this.k.memory.buffer.byteLength;
    if (bytes > have) this.k.memory.grow(Math.ceil((bytes - have) / 65536));
  }

  /** A float64 view of `length` elements at byte offset `byteOffset` (a multiple of 8). */
  view(byteOffset: number, length: number): Float64Array<ArrayBuffer> {
    return new Float64Array(this.k.memory.buffer, byteOffset, length);
  }

  /**
   * Lay out one float64 buffer per entry of `lengths`, one after another from byte 64, each
   * 16-byte aligned; grows the memory to fit. The views replace any earlier ones (see ensure).
   */
  views(lengths: number[]): Float64Array<ArrayBuffer>[] {
    const offsets: number[] = [];
    let next = 64;
    for (const len of lengths) {
      offsets.push(next);
      next += Math.ceil((len * 8) / 16) * 16;
    }
    this.ensure(next);
    return lengths.map((len, i) => this.view(offsets[i], len));
  }

  /**
   * O = f(X W + b) over n rows (see kernels.wat): W (I x J), X (n x I), O and H (n x J), b (J)
   * when given; f by `mode`. Arguments are views into this instance's memory.
   */
  dense(
    W: Float64Array,
    b: Float64Array | null,
    I: number,
    J: number,
    X: Float64Array,
    O: Float64Array,
    n: number,
    mode: number,
    H: Float64Array | null,
  ): void {
    this.k.dense(
      W.byteOffset,
      b === null ? 0 : b.byteOffset,
      b === null ? 0 : 1,
      I,
      J,
      X.byteOffset,
      O.byteOffset,
      n,
      mode,
      H === null ? 0 : H.byteOffset,
    );
  }

  /** G = X^T D (assigned): X (n x I), D (n x J), G (I x J); views into this instance's memory. */
  gradW(X: Float64Array, D: Float64Array, G: Float64Array, I: number, J: number, n: number): void {
    this.k.gradW(X.byteOffset, D.byteOffset, G.byteOffset, I, J, n);
  }

  /** out[j] = sum_r D[r, j] (assigned): D (n x J), out (J); views into this instance's memory. */
  colSum(D: Float64Array, out: Float64Array, J: number, n: number): void {
    this.k.colSum(D.byteOffset, out.byteOffset, J, n);
  }

  /** The module's tanh, for tests. */
  tanh(x: number): number {
    return this.k.tanh(x);
  }
}
