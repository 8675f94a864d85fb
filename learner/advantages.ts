/**
 * Advantage estimators, docs/METHODS.md section 4. Pure float64 functions over one time-major
 * T x E segment; the learner calls them once per segment before its epochs.
 *
 * Episode boundaries: where `terminated[t]` the next value is 0 and the recursion is cut;
 * where `truncated[t]` (time limit) the next value is V(final observation) and the recursion
 * is cut too (the next state in the buffer belongs to a new episode).
 */

/** One segment's inputs, time-major: index t * E + e. */
export interface SegmentValues {
  T: number;
  E: number;
  rewards: ArrayLike<number>;
  terminated: ArrayLike<number>;
  truncated: ArrayLike<number>;
  /** V(s_t) under the learner's current value network, T * E. */
  values: ArrayLike<number>;
  /** V(s_T) of the observation after the segment, E. */
  bootstrapValues: ArrayLike<number>;
  /** V(final observation) for each truncated step, in time-major order of the truncated flags. */
  finalValues: ArrayLike<number>;
}

export interface AdvantageResult {
  /** Policy advantages A_t, T * E. */
  advantages: Float64Array;
  /** Value targets (GAE: A + V; V-trace: v_s), T * E. */
  targets: Float64Array;
}

/**
 * The value of the state after step t for environment e, and whether the recursion continues
 * past it: 0 after a termination, V(final obs) after a truncation, else V(s_{t+1}).
 */
function nextValues(seg: SegmentValues): { next: Float64Array; cont: Uint8Array } {
  const { T, E } = seg;
  const next = new Float64Array(T * E);
  const cont = new Uint8Array(T * E);
  let k = 0; // index into finalValues, time-major order of truncations
  for (let t = 0; t < T; t++) {
    for (let e = 0; e < E; e++) {
      const i = t * E + e;
      if (seg.terminated[i]) {
        next[i] = 0;
        if (seg.truncated[i]) k++; // both flags: termination wins, its final value is unused
      } else if (seg.truncated[i]) {
        next[i] = seg.finalValues[k++];
      } else {
        next[i] = t + 1 < T ? seg.values[i + E] : seg.bootstrapValues[e];
        cont[i] = 1;
      }
    }
  }
  return { next, cont };
}

/** Generalised advantage estimation (Schulman et al. 2016), ignoring off-policyness. */
export function gae(seg: SegmentValues, gamma: number, lambda: number): AdvantageResult {
  const { T, E } = seg;
  const { next, cont } = nextValues(seg);
  const advantages = new Float64Array(T * E);
  const targets = new Float64Array(T * E);
  for (let e = 0; e < E; e++) {
    let acc = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * E + e;
      const delta = seg.rewards[i] + gamma * next[i] - seg.values[i];
      acc = delta + (cont[i] ? gamma * lambda * acc : 0);
      advantages[i] = acc;
      targets[i] = acc + seg.values[i];
    }
  }
  return { advantages, targets };
}

/**
 * V-trace (Espeholt et al. 2018, eq. 1), computed backwards:
 * v_s - V(s) = rho_s delta_s + gamma c_s (v_{s+1} - V(s_{s+1})), rho = min(rhoBar, w),
 * c = lambda min(cBar, w); policy advantage A_s = r_s + gamma v_{s+1} - V(s_s).
 * `logRatio` is log w = log pi - log mu per sample (clamped by the caller).
 */
export function vtrace(
  seg: SegmentValues,
  logRatio: ArrayLike<number>,
  gamma: number,
  lambda: number,
  rhoBar: number,
  cBar: number,
): AdvantageResult {
  const { T, E } = seg;
  const { next, cont } = nextValues(seg);
  const advantages = new Float64Array(T * E);
  const targets = new Float64Array(T * E);
  for (let e = 0; e < E; e++) {
    let accNext = 0; // v_{s+1} - V(s_{s+1}) along a continuing trajectory
    for (let t = T - 1; t >= 0; t--) {
      const i = t * E + e;
      const w = Math.exp(logRatio[i]);
      const rho = Math.min(rhoBar, w);
      const c = lambda * Math.min(cBar, w);
      const delta = seg.rewards[i] + gamma * next[i] - seg.values[i];
      const carried = cont[i] ? accNext : 0;
      const acc = rho * delta + gamma * c * carried;
      targets[i] = seg.values[i] + acc;
      // v_{s+1}: the next state's V-trace target, or the bootstrap/zero at a boundary.
      const vNext = next[i] + carried;
      advantages[i] = seg.rewards[i] + gamma * vNext - seg.values[i];
      accNext = acc;
    }
  }
  return { advantages, targets };
}

/** Normalise in place to mean 0, std 1 (population std, + 1e-8). Returns the array. */
export function normalize(a: Float64Array): Float64Array {
  const n = a.length;
  if (n === 0) return a;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (a[i] - mean) ** 2;
  const std = Math.sqrt(v / n);
  for (let i = 0; i < n; i++) a[i] = (a[i] - mean) / (std + 1e-8);
  return a;
}

/**
 * Group advantages (GRPO): segments of sequence tasks hold one whole response per env (T = the
 * response length), and each group of `groupSize` consecutive envs answered the same prompt.
 * R_e = sum of env e's rewards in the segment; A = (R_e - mean of its group's R) / (population
 * std of the group's R + 1e-6), the same for every token of the response. Returns T * E
 * advantages, time-major. Throws a RangeError when groupSize does not divide E.
 */
export function groupAdvantages(seg: Pick<SegmentValues, 'T' | 'E' | 'rewards'>, groupSize: number): Float64Array {
  const { T, E } = seg;
  if (!Number.isInteger(groupSize) || groupSize < 1 || E % groupSize !== 0)
    throw new RangeError(`group size ${groupSize} must be a positive integer dividing E = ${E}`);
  const R = responseReturns(seg);
  const A = new Float64Array(E);
  for (let g0 = 0; g0 < E; g0 += groupSize) {
    let mean = 0;
    for (let e = g0; e < g0 + groupSize; e++) mean += R[e];
    mean /= groupSize;
    let v = 0;
    for (let e = g0; e < g0 + groupSize; e++) v += (R[e] - mean) ** 2;
    const std = Math.sqrt(v / groupSize);
    for (let e = g0; e < g0 + groupSize; e++) A[e] = (R[e] - mean) / (std + 1e-6);
  }
  return broadcast(A, T);
}

/** R_e: the sum of env e's rewards over the segment (its response's reward). */
function responseReturns(seg: Pick<SegmentValues, 'T' | 'E' | 'rewards'>): Float64Array {
  const { T, E } = seg;
  const R = new Float64Array(E);
  for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) R[e] += seg.rewards[t * E + e];
  return R;
}

function broadcast(perEnv: Float64Array, T: number): Float64Array {
  const E = perEnv.length;
  const out = new Float64Array(T * E);
  for (let t = 0; t < T; t++) out.set(perEnv, t * E);
  return out;
}

/**
 * Reward advantages (`--advantage reward`): A = R_e, the response's reward, on every token, with
 * no baseline. With `sft` on teacher data this is reward-weighted imitation (every A >= 0 when
 * rewards are); it is never normalised per batch, which would re-centre it.
 */
export function rewardAdvantages(seg: Pick<SegmentValues, 'T' | 'E' | 'rewards'>): Float64Array {
  return broadcast(responseReturns(seg), seg.T);
}

/**
 * `--ratio sequence` (as GSPO): replace each of the first n log-ratios by the mean over the
 * rows with the same response id (log of the geometric mean of the response's token ratios).
 * In place; returns `logRatio`.
 */
export function responseMeanLogRatio(logRatio: Float64Array, response: ArrayLike<number>, n = logRatio.length): Float64Array {
  const sum = new Map<number, number>();
  const cnt = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    sum.set(response[i], (sum.get(response[i]) ?? 0) + logRatio[i]);
    cnt.set(response[i], (cnt.get(response[i]) ?? 0) + 1);
  }
  for (let i = 0; i < n; i++) logRatio[i] = sum.get(response[i])! / cnt.get(response[i])!;
  return logRatio;
}
