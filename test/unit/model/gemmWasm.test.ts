import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { backTanh, denseForward, gradW } from '../../../model/gemm.js';
import { DenseMode, WasmKernels, wasmKernelsAvailable } from '../../../model/gemmWasm.js';
import { backward, defaultKernels, forwardTrain, transpose, transposedLayers, transposeRange, Workspace } from '../../../model/grad.js';
import { paramCount } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';
import type { ModelSpec } from '../../../model/spec.js';

/** Copy `src` into a fresh region of the kernels' memory starting at byte `at`; returns the view. */
function place(k: WasmKernels, at: number, src: Float64Array): Float64Array {
  const v = k.view(at, src.length);
  v.set(src);
  return v;
}

function randomArray(len: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: len }, () => scale * rng.normal());
}

const shapes: [number, number, number][] = [
  // [n rows, I in, J out]: tiles of 8 columns, column tails, odd row counts, tiny layers
  [256, 64, 64],
  [255, 64, 64],
  [1, 4, 64],
  [3, 6, 9],
  [7, 64, 2],
  [5, 64, 1],
  [2, 1, 1],
  [9, 13, 17],
];

describe('WebAssembly SIMD kernels (model/kernels.wat)', () => {
  it('load on this runtime (Node >= 20 has WebAssembly SIMD) and are the default', () => {
    expect(wasmKernelsAvailable()).toBe(true);
    expect(defaultKernels()).toBe('wasm');
  });

  it('model/kernels.wasm.ts is what model/kernels.wat compiles to', () => {
    // exits 1 with a message when the committed base64 is stale
    execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { stdio: 'pipe' });
  });

  it('tanh is within 2 ulp of Math.tanh, odd, saturates, and keeps NaN', () => {
    const k = new WasmKernels();
    const xs = [0, 1e-300, 1e-8, 0.03, 0.0624999, 0.0625, 0.1, 0.5, 1, 2.5, 7, 18.9, 21.99, 22, 30, 710, 1e308];
    const rng = new Rng(4);
    for (let i = 0; i < 2000; i++) xs.push(4 * rng.normal());
    for (const x0 of xs) {
      for (const x of [x0, -x0]) {
        const want = Math.tanh(x);
        const got = k.tanh(x);
        const ulp = Math.max(Number.MIN_VALUE, Math.abs(want) * 2 ** -52);
        expect(Math.abs(got - want), `tanh(${x})`).toBeLessThanOrEqual(2 * ulp);
      }
    }
    expect(k.tanh(Infinity)).toBe(1);
    expect(k.tanh(-Infinity)).toBe(-1);
    expect(Number.isNaN(k.tanh(NaN))).toBe(true);
  });

  /** The JS denseForward and the wasm dense on the same random layer: [JS output, wasm output]. */
  function bothDense(n: number, I: number, J: number, tanh: boolean): [Float64Array, Float64Array] {
    const rng = new Rng(n * 1000 + I * 10 + J + (tanh ? 7 : 0));
    const k = new WasmKernels();
    k.ensure(1 << 20);
    const P = randomArray(I * J + J, rng, 0.3);
    const X = randomArray(n * I, rng);
    const want = new Float64Array(n * J);
    denseForward(P, 0, I * J, I, J, X, want, n, tanh);
    const wP = place(k, 64, P);
    const wX = place(k, 64 + P.length * 8 + 64, X);
    const wO = k.view(wX.byteOffset + X.length * 8 + 64, n * J);
    k.dense(wP.subarray(0, I * J), wP.subarray(I * J), I, J, wX, wO, n, tanh ? DenseMode.tanh : DenseMode.identity, null);
    return [want, wO];
  }

  it.each(shapes)('dense (identity) is bit-identical to the JS denseForward: n %i, %i -> %i', (n, I, J) => {
    const [want, got] = bothDense(n, I, J, false);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it.each(shapes)('dense (tanh) agrees with the JS denseForward to 2 ulp: n %i, %i -> %i', (n, I, J) => {
    const [want, got] = bothDense(n, I, J, true);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(4.5e-16);
  });

  it.each(shapes)('gradW is bit-identical to the JS gradW: n %i, %i x %i', (n, I, J) => {
    const rng = new Rng(7 * n + I - J);
    const k = new WasmKernels();
    k.ensure(1 << 20);
    const X = randomArray(n * I, rng);
    const D = randomArray(n * J, rng);
    const want = new Float64Array(I * J);
    gradW(X, D, want, 0, I, J, n);
    const wX = place(k, 64, X);
    const wD = place(k, 64 + X.length * 8 + 64, D);
    const wG = k.view(wD.byteOffset + D.length * 8 + 64, I * J).fill(123); // assigned, not accumulated
    k.gradW(wX, wD, wG, I, J, n);
    expect(Array.from(wG)).toEqual(Array.from(want));
  });

  it.each(shapes)('colSum sums each column over the rows in order (the bias gradient): n %i, J %i', (n, _I, J) => {
    const rng = new Rng(3 * n + J);
    const k = new WasmKernels();
    k.ensure(1 << 20);
    const D = randomArray(n * J, rng);
    const want = new Float64Array(J);
    for (let r = 0; r < n; r++) for (let j = 0; j < J; j++) want[j] += D[r * J + j];
    const wD = place(k, 64, D);
    const out = k.view(wD.byteOffset + D.length * 8 + 64, J).fill(9); // assigned, not accumulated
    k.colSum(wD, out, J, n);
    expect(Array.from(out)).toEqual(Array.from(want));
  });

  it.each(shapes)('dense on W^T with the tanh-gradient mode is bit-identical to the JS backTanh: n %i, %i x %i', (n, I, J) => {
    const rng = new Rng(11 * n + J);
    const k = new WasmKernels();
    k.ensure(1 << 20);
    const P = randomArray(I * J, rng, 0.3);
    const D = randomArray(n * J, rng);
    const H = Float64Array.from({ length: n * I }, () => Math.tanh(rng.normal()));
    const want = new Float64Array(n * I);
    backTanh(P, 0, I, J, D, H, want, n);
    const Wt = new Float64Array(J * I);
    for (let i = 0; i < I; i++) for (let j = 0; j < J; j++) Wt[j * I + i] = P[i * J + j];
    const wW = place(k, 64, Wt);
    const wD = place(k, 64 + Wt.length * 8 + 64, D);
    const wH = place(k, wD.byteOffset + D.length * 8 + 64, H);
    const wO = k.view(wH.byteOffset + H.length * 8 + 64, n * I);
    k.dense(wW, null, J, I, wD, wO, n, DenseMode.tanhGrad, wH);
    expect(Array.from(wO)).toEqual(Array.from(want));
  });
});

describe('Workspace on the wasm kernels', () => {
  const specs: ModelSpec[] = [
    { obsDim: 4, nActions: 2, hidden: [64, 64] },
    { obsDim: 6, nActions: 3, hidden: [16, 8] },
    { obsDim: 3, nActions: 5, hidden: [9] },
    // Layers that are not whole 16 x 16 tiles of the backward pass's transpose.
    { obsDim: 5, nActions: 3, hidden: [37, 21] },
  ];

  it.each(specs.map((s) => [JSON.stringify(s), s] as const))(
    'forward and backward match the JS kernels (%s), also after the workspace grows',
    (_, spec) => {
      const rng = new Rng(21);
      const params = randomArray(paramCount(spec), rng, 0.5);
      const wasm = new Workspace(spec, 4, 'wasm');
      const js = new Workspace(spec, 4, 'js');
      expect(wasm.kernels).toBe('wasm');
      for (const n of [3, 4, 37, 300]) {
        // 37 and 300 grow the buffers (and the wasm memory)
        const obs = Float32Array.from({ length: n * spec.obsDim }, () => rng.normal());
        forwardTrain(spec, params, obs, n, wasm);
        forwardTrain(spec, params, obs, n, js);
        for (let i = 0; i < n * spec.nActions; i++) expect(Math.abs(wasm.logits[i] - js.logits[i])).toBeLessThanOrEqual(1e-13);
        for (let i = 0; i < n; i++) expect(Math.abs(wasm.values[i] - js.values[i])).toBeLessThanOrEqual(1e-13);
        const cL = randomArray(n * spec.nActions, rng);
        const cV = randomArray(n, rng);
        const gW = new Float64Array(paramCount(spec)).fill(7);
        const gJ = new Float64Array(paramCount(spec));
        backward(spec, params, wasm, cL, cV, gW);
        backward(spec, params, js, cL, cV, gJ);
        let worst = 0;
        for (let i = 0; i < gW.length; i++) worst = Math.max(worst, Math.abs(gW[i] - gJ[i]) / (1 + Math.abs(gJ[i])));
        expect(worst).toBeLessThanOrEqual(1e-12);
        expect(gJ.some((v) => v !== 0)).toBe(true);
      }
    },
  );
});

describe('non-finite input on the wasm kernels', () => {
  it('a NaN parameter reaches the outputs and the gradient as NaN (the loss rejects it), never a trap', () => {
    const spec: ModelSpec = { obsDim: 4, nActions: 2, hidden: [64, 64] };
    const rng = new Rng(5);
    const params = randomArray(paramCount(spec), rng, 0.3);
    params[3] = NaN; // a first-layer policy weight
    const ws = new Workspace(spec, 8, 'wasm');
    const obs = Float32Array.from({ length: 8 * 4 }, () => rng.normal());
    forwardTrain(spec, params, obs, 8, ws);
    expect(Array.from(ws.logits.subarray(0, 16)).every(Number.isNaN)).toBe(true);
    expect(Array.from(ws.values.subarray(0, 8)).some(Number.isNaN)).toBe(false);
    const grad = new Float64Array(paramCount(spec));
    backward(spec, params, ws, new Float64Array(16).fill(0.1), new Float64Array(8).fill(0.1), grad);
    expect(grad.some(Number.isNaN)).toBe(true);
  });
});

describe('the shared transposes (learner threads)', () => {
  const spec: ModelSpec = { obsDim: 5, nActions: 3, hidden: [37, 21, 10] };

  it('transposeRange over ranges that cut layers anywhere gives every layer of transposedLayers transposed, nothing else written', () => {
    const rng = new Rng(8);
    const C = paramCount(spec);
    const P = randomArray(C, rng);
    const layers = transposedLayers(spec);
    expect(layers.map((l) => `${l.net}${l.index}`)).toEqual(['policy1', 'policy2', 'policy3', 'value1', 'value2', 'value3']);
    for (const parts of [1, 3, 7]) {
      const T = new Float64Array(C).fill(-1);
      for (let s = 0; s < parts; s++) transposeRange(layers, P, T, Math.floor((s * C) / parts), Math.floor(((s + 1) * C) / parts));
      const want = new Float64Array(C).fill(-1);
      for (const L of layers) {
        const Wt = new Float64Array(L.inDim * L.outDim);
        transpose(P, L.wOffset, L.inDim, L.outDim, Wt);
        want.set(Wt, L.wOffset);
      }
      expect(Array.from(T)).toEqual(Array.from(want));
    }
  });

  it('backward with the shared transposes equals backward without them, bit for bit', () => {
    const rng = new Rng(9);
    const params = randomArray(paramCount(spec), rng, 0.5);
    const T = new Float64Array(params.length);
    transposeRange(transposedLayers(spec), params, T, 0, params.length);
    const n = 19;
    const obs = Float32Array.from({ length: n * spec.obsDim }, () => rng.normal());
    const cL = randomArray(n * spec.nActions, rng);
    const cV = randomArray(n, rng);
    // null: transposed in backward; T: copied from the shared ones; zeros: proves they are read.
    const grads = [null, T, new Float64Array(params.length)].map((shared) => {
      const ws = new Workspace(spec, 8, 'wasm');
      ws.sharedTransposes = shared;
      forwardTrain(spec, params, obs, n, ws);
      const g = new Float64Array(params.length);
      backward(spec, params, ws, cL, cV, g);
      return Array.from(g);
    });
    expect(grads[1]).toEqual(grads[0]);
    expect(grads[0].some((v) => v !== 0)).toBe(true);
    expect(grads[2]).not.toEqual(grads[0]);
  });
});
