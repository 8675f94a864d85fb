/**
 * Register-blocked float64 kernels of one dense layer for model/grad.ts: forward, dW and
 * d-input. Each computes a 2 x 4 tile of its output in eight local accumulators, so one pass
 * of the inner loop loads 6 numbers for 8 multiply-adds (V8 does not vectorise; the loads and
 * their bounds checks are the cost, about 2.5x fewer than a plain i-k-j loop). Tiles at the
 * edges clamp their row / column indices to the last valid one: the duplicate lanes compute
 * the same value again and store it by assignment, so any size works without remainder loops.
 * Matrices are row-major; W sits in `P` at `wOff` as in x out (model/params.ts).
 */

/**
 * O[r, j] = act(b[j] + sum_i X[r, i] W[i, j]) for r < n, j < J, with act = tanh when `tanh`,
 * else the identity. b sits in P at bOff. X is n x I, O is n x J.
 */
export function denseForward(
  P: Float64Array,
  wOff: number,
  bOff: number,
  I: number,
  J: number,
  X: Float64Array,
  O: Float64Array,
  n: number,
  tanh: boolean,
): void {
  const jLast = J - 1;
  for (let r = 0; r < n; r += 2) {
    const r1 = r + 1 < n ? r + 1 : r;
    const x0 = r * I,
      x1 = r1 * I,
      o0 = r * J,
      o1 = r1 * J;
    for (let j = 0; j < J; j += 4) {
      const j1 = j + 1 < jLast ? j + 1 : jLast,
        j2 = j + 2 < jLast ? j + 2 : jLast,
        j3 = j + 3 < jLast ? j + 3 : jLast;
      let a0 = P[bOff + j],
        a1 = P[bOff + j1],
        a2 = P[bOff + j2],
        a3 = P[bOff + j3];
      let c0 = a0,
        c1 = a1,
        c2 = a2,
        c3 = a3;
      for (let i = 0, w = wOff; i < I; i++, w += J) {
        const u = X[x0 + i],
          v = X[x1 + i];
        const w0 = P[w + j],
          w1 = P[w + j1],
          w2 = P[w + j2],
          w3 = P[w + j3];
        a0 += u * w0;
        a1 += u * w1;
        a2 += u * w2;
        a3 += u * w3;
        c0 += v * w0;
        c1 += v * w1;
        c2 += v * w2;
        c3 += v * w3;
      }
      if (tanh) {
        a0 = Math.tanh(a0);
        a1 = Math.tanh(a1);
        a2 = Math.tanh(a2);
        a3 = Math.tanh(a3);
        c0 = Math.tanh(c0);
        c1 = Math.tanh(c1);
        c2 = Math.tanh(c2);
        c3 = Math.tanh(c3);
      }
      O[o0 + j] = a0;
      O[o0 + j1] = a1;
      O[o0 + j2] = a2;
      O[o0 + j3] = a3;
      O[o1 + j] = c0;
      O[o1 + j1] = c1;
      O[o1 + j2] = c2;
      O[o1 + j3] = c3;
    }
  }
}

/**
 * dW = X^T D written (assigned, not accumulated) into G at wOff (I x J): G[i, j] = sum_{r<n}
 * X[r, i] D[r, j]. X is n x I, D is n x J. The inner loop walks rows (stride I and J); a
 * row-blocked variant that keeps tiles in L1 measured no faster at n = 1024.
 */
export function gradW(X: Float64Array, D: Float64Array, G: Float64Array, wOff: number, I: number, J: number, n: number): void {
  const jLast = J - 1;
  for (let i = 0; i < I; i += 2) {
    const i1 = i + 1 < I ? i + 1 : i;
    for (let j = 0; j < J; j += 4) {
      const j1 = j + 1 < jLast ? j + 1 : jLast,
        j2 = j + 2 < jLast ? j + 2 : jLast,
        j3 = j + 3 < jLast ? j + 3 : jLast;
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0,
        c0 = 0,
        c1 = 0,
        c2 = 0,
        c3 = 0;
      for (let r = 0, xo = 0, dOff = 0; r < n; r++, xo += I, dOff += J) {
        const u = X[xo + i],
          v = X[xo + i1];
        const e0 = D[dOff + j],
          e1 = D[dOff + j1],
          e2 = D[dOff + j2],
          e3 = D[dOff + j3];
        a0 += u * e0;
        a1 += u * e1;
        a2 += u * e2;
        a3 += u * e3;
        c0 += v * e0;
        c1 += v * e1;
        c2 += v * e2;
        c3 += v * e3;
      }
      const g0 = wOff + i * J,
        g1 = wOff + i1 * J;
      G[g0 + j] = a0;
      G[g0 + j1] = a1;
      G[g0 + j2] = a2;
      G[g0 + j3] = a3;
      G[g1 + j] = c0;
      G[g1 + j1] = c1;
      G[g1 + j2] = c2;
      G[g1 + j3] = c3;
    }
  }
}

/**
 * d loss / d z of the previous tanh layer: dPrev[r, i] = (sum_j D[r, j] W[i, j]) * (1 - H[r, i]^2),
 * H (n x I) being that layer's tanh output and D (n x J) d loss / d z of this layer.
 */
export function backTanh(
  P: Float64Array,
  wOff: number,
  I: number,
  J: number,
  D: Float64Array,
  H: Float64Array,
  dPrev: Float64Array,
  n: number,
): void {
  const iLast = I - 1;
  for (let r = 0; r < n; r += 2) {
    const r1 = r + 1 < n ? r + 1 : r;
    const d0 = r * J,
      d1 = r1 * J,
      h0 = r * I,
      h1 = r1 * I;
    for (let i = 0; i < I; i += 4) {
      const i1 = i + 1 < iLast ? i + 1 : iLast,
        i2 = i + 2 < iLast ? i + 2 : iLast,
        i3 = i + 3 < iLast ? i + 3 : iLast;
      const w0 = wOff + i * J,
        w1 = wOff + i1 * J,
        w2 = wOff + i2 * J,
        w3 = wOff + i3 * J;
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0,
        c0 = 0,
        c1 = 0,
        c2 = 0,
        c3 = 0;
      for (let j = 0; j < J; j++) {
        const e = D[d0 + j],
          f = D[d1 + j];
        const p0 = P[w0 + j],
          p1 = P[w1 + j],
          p2 = P[w2 + j],
          p3 = P[w3 + j];
        a0 += e * p0;
        a1 += e * p1;
        a2 += e * p2;
        a3 += e * p3;
        c0 += f * p0;
        c1 += f * p1;
        c2 += f * p2;
        c3 += f * p3;
      }
      let h = H[h0 + i];
      dPrev[h0 + i] = a0 * (1 - h * h);
      h = H[h0 + i1];
      dPrev[h0 + i1] = a1 * (1 - h * h);
      h = H[h0 + i2];
      dPrev[h0 + i2] = a2 * (1 - h * h);
      h = H[h0 + i3];
      dPrev[h0 + i3] = a3 * (1 - h * h);
      h = H[h1 + i];
      dPrev[h1 + i] = c0 * (1 - h * h);
      h = H[h1 + i1];
      dPrev[h1 + i1] = c1 * (1 - h * h);
      h = H[h1 + i2];
      dPrev[h1 + i2] = c2 * (1 - h * h);
      h = H[h1 + i3];
      dPrev[h1 + i3] = c3 * (1 - h * h);
    }
  }
}
