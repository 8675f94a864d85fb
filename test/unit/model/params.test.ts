import { describe, expect, it } from 'vitest';
import { initParams, layerOffsets, modelHash, orthogonal, paramCount } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';

const spec = { obsDim: 4, nActions: 2, hidden: [64, 64] };

/** G = M^T M for an (r x c) row-major matrix M, or M M^T when `rowsGram`. */
function gram(m: ArrayLike<number>, r: number, c: number, rowsGram: boolean): number[][] {
  const k = rowsGram ? r : c;
  const g = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      if (rowsGram) for (let j = 0; j < c; j++) s += m[p * c + j] * m[q * c + j];
      else for (let i = 0; i < r; i++) s += m[i * c + p] * m[i * c + q];
      g[p][q] = s;
    }
  }
  return g;
}

function expectScaledIdentity(g: number[][], scale: number, tol: number): void {
  g.forEach((row, p) => row.forEach((v, q) => expect(Math.abs(v - (p === q ? scale : 0))).toBeLessThan(tol)));
}

describe('params layout and init', () => {
  it('counts parameters: policy 4-64-64-2 plus value 4-64-64-1', () => {
    const policy = 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2;
    const value = 4 * 64 + 64 + 64 * 64 + 64 + 64 * 1 + 1;
    expect(paramCount(spec)).toBe(policy + value);
    const layers = layerOffsets(spec);
    expect(layers.map((l) => [l.net, l.inDim, l.outDim, l.isOutput])).toEqual([
      ['policy', 4, 64, false],
      ['policy', 64, 64, false],
      ['policy', 64, 2, true],
      ['value', 4, 64, false],
      ['value', 64, 64, false],
      ['value', 64, 1, true],
    ]);
    expect(layers[0].wOffset).toBe(0);
    expect(layers[0].bOffset).toBe(256);
    expect(layers[1].wOffset).toBe(320);
    expect(layers[3].wOffset).toBe(policy);
    expect(paramCount({ obsDim: 3, nActions: 5, hidden: [] })).toBe(3 * 5 + 5 + 3 + 1);
  });

  it('orthogonal() has orthonormal columns (tall) or rows (wide)', () => {
    expectScaledIdentity(gram(orthogonal(10, 4, new Rng(1)), 10, 4, false), 1, 1e-12);
    expectScaledIdentity(gram(orthogonal(3, 8, new Rng(2)), 3, 8, true), 1, 1e-12);
    expectScaledIdentity(gram(orthogonal(6, 6, new Rng(3)), 6, 6, false), 1, 1e-12);
  });

  it('initialised weights are orthogonal with CleanRL gains and zero biases', () => {
    const p = initParams(spec, 0);
    const L = layerOffsets(spec);
    const W = (i: number) => p.subarray(L[i].wOffset, L[i].wOffset + L[i].inDim * L[i].outDim);
    // 64 x 64 hidden: W^T W = 2 I (float32 storage).
    expectScaledIdentity(gram(W(1), 64, 64, false), 2, 1e-5);
    // 4 x 64 input layer (wide): W W^T = 2 I.
    expectScaledIdentity(gram(W(0), 4, 64, true), 2, 1e-5);
    // Policy output 64 x 2 (tall): W^T W = 0.01^2 I; value output 64 x 1: |w|^2 = 1.
    expectScaledIdentity(gram(W(2), 64, 2, false), 1e-4, 1e-9);
    expectScaledIdentity(gram(W(5), 64, 1, false), 1, 1e-5);
    for (const l of L) for (let j = 0; j < l.outDim; j++) expect(p[l.bOffset + j]).toBe(0);
  });

  it('is reproducible from the seed', () => {
    expect(initParams(spec, 7)).toEqual(initParams(spec, 7));
    expect(initParams(spec, 7)).not.toEqual(initParams(spec, 8));
  });

  it('modelHash is stable per spec and differs between specs', () => {
    const h = modelHash(spec);
    expect(h).toBe(modelHash({ obsDim: 4, nActions: 2, hidden: [64, 64] }));
    expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    const others = [
      { obsDim: 6, nActions: 3, hidden: [64, 64] },
      { obsDim: 4, nActions: 2, hidden: [64] },
      { obsDim: 4, nActions: 2, hidden: [6, 464] },
      { obsDim: 4, nActions: 3, hidden: [64, 64] },
    ];
    const hashes = new Set([h, ...others.map(modelHash)]);
    expect(hashes.size).toBe(5);
  });

  it('rejects a bad spec naming the field', () => {
    expect(() => paramCount({ obsDim: 0, nActions: 2, hidden: [8] })).toThrow(/obsDim/);
    expect(() => paramCount({ obsDim: 4, nActions: 2, hidden: [8.5] })).toThrow(/hidden\[0\]/);
  });
});
