/**
 * Off-policy diagnostics of one learner update (docs/METHODS.md section 5), for samples drawn from
 * mu: normalised ESS, KL(mu||pi) estimators k1 and k3, KL(pi||mu), w quantiles, the mean
 * trust h and gamma, g per quadrant (w>1 or w<=1) x (A>0 or A<=0), and all of it per lag
 * bucket. Float64 accumulation throughout; inputs are not modified.
 */
import type {
  LagBucketLabel,
  LagBucketStat,
  PositionStat,
  QuadrantStat,
  Quadrants,
  SequenceStats,
  SourceBucketStat,
  SourceLabel,
  UpdateRecord,
} from '../protocol/records.js';
import type { SequenceRows } from './batch.js';

/** Normalised ESS (sum w)^2 / (n sum w^2), in [1/n, 1]. NaN for an empty batch. */
export function ess(w: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return (s * s) / (w.length * s2);
}

function mean(n: number, term: (i: number) => number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += term(i);
  return s / n;
}

/** KL(mu || pi) estimator k1 = mean(-log w) (unbiased, can be negative on a batch). */
export function klMuPiK1(w: ArrayLike<number>): number {
  return mean(w.length, (i) => -Math.log(w[i]));
}

/** KL(mu || pi) estimator k3 = mean(w - 1 - log w) (unbiased, every term >= 0). */
export function klMuPiK3(w: ArrayLike<number>): number {
  return mean(w.length, (i) => w[i] - 1 - Math.log(w[i]));
}

/** KL(pi || mu) estimator mean(w log w - w + 1) (unbiased, every term >= 0). */
export function klPiMu(w: ArrayLike<number>): number {
  return mean(w.length, (i) => w[i] * Math.log(w[i]) - w[i] + 1);
}

/** Quantile p in [0, 1] of an ascending-sorted array, linear interpolation at p (n - 1). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(p, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** The lag bucket (0, 1, 2-3, 4-7, ..., 32-63, 64+) of a lag in versions. Rejects lag < 0 or non-integer. */
export function lagBucket(lag: number): LagBucketLabel {
  if (!Number.isInteger(lag) || lag < 0)
    throw new RangeError(`lag = ${String(lag)}: expected an integer >= 0 (learner version minus sample version)`);
  if (lag === 0) return '0';
  if (lag === 1) return '1';
  if (lag >= 64) return '64+';
  const lo = 2 ** Math.floor(Math.log2(lag));
  return `${lo}-${2 * lo - 1}` as LagBucketLabel;
}

export interface BatchDiagnosticsInput {
  /** log w = logp - logmu per sample (already clamped by the objective). */
  logRatio: Float32Array | Float64Array;
  /** Advantage that entered the loss. */
  adv: ArrayLike<number>;
  /** Gradient weight used. */
  g: ArrayLike<number>;
  /** Trust h(w) (v5, v5-fixed), else null. */
  h?: ArrayLike<number> | null;
  /** Per-sample gamma (v3.1, v5, v5-fixed), else null. */
  gamma?: ArrayLike<number> | null;
  /** Policy lag of each sample, in versions. */
  lag: ArrayLike<number>;
  /** Sequence tasks: source, position and response end of each sample. */
  seq?: SequenceRows;
}

export type BatchDiagnostics = Pick<
  UpdateRecord,
  'ess' | 'essG' | 'klMuPiK1' | 'klMuPiK3' | 'klPiMu' | 'wQuantiles' | 'meanH' | 'meanGamma' | 'meanG' | 'quadrants' | 'lagBuckets'
> &
  Partial<Pick<UpdateRecord, 'sequence'>>;

/**
 * Sequence-task diagnostics: per source (policy / teacher) and lag bucket, ESS, KL k3, KL(pi||mu),
 * mean g, g per quadrant and the exact-match rate of the responses that ended; per token
 * position, mean log w and mean g. `w` = e^{log w} of every sample.
 */
export function summarizeSequence(input: BatchDiagnosticsInput, w: Float64Array, seq: SequenceRows): SequenceStats {
  const n = w.length;
  if (seq.source.length !== n || seq.position.length !== n || seq.final.length !== n)
    throw new Error(
      `summarizeSequence: seq rows have lengths ${seq.source.length}/${seq.position.length}/${seq.final.length}, logRatio has ${n}`,
    );
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const k = `${seq.source[i] === 1 ? 'teacher' : 'policy'}|${lagBucket(input.lag[i])}`;
    const list = groups.get(k);
    if (list) list.push(i);
    else groups.set(k, [i]);
  }
  const bySource: SequenceStats['bySource'] = {};
  for (const [k, idx] of groups) {
    const [src, b] = k.split('|') as [SourceLabel, LagBucketLabel];
    const wb = pick(w, idx);
    let ended = 0,
      exact = 0;
    for (const i of idx)
      if (seq.final[i] >= 0) {
        ended++;
        exact += seq.final[i];
      }
    const stat: SourceBucketStat = {
      n: idx.length,
      responses: ended,
      success: ended > 0 ? exact / ended : null,
      ess: ess(wb),
      klMuPiK3: klMuPiK3(wb),
      klPiMu: klPiMu(wb),
      meanG: meanOf(pick(input.g, idx)),
      quadrants: quadrants(idx, input.logRatio, input.adv, input.g),
    };
    (bySource[src] ??= {})[b] = stat;
  }
  let L = 0;
  for (let i = 0; i < n; i++) L = Math.max(L, seq.position[i] + 1);
  const positions: PositionStat[] = Array.from({ length: L }, () => ({ n: 0, meanLogW: 0, meanG: 0 }));
  for (let i = 0; i < n; i++) {
    const p = positions[seq.position[i]];
    p.n++;
    p.meanLogW += input.logRatio[i];
    p.meanG += input.g[i];
  }
  for (const p of positions)
    if (p.n > 0) {
      p.meanLogW /= p.n;
      p.meanG /= p.n;
    }
  return { bySource, positions };
}

function quadrants(idx: number[], logRatio: ArrayLike<number>, adv: ArrayLike<number>, g: ArrayLike<number>): Quadrants {
  const acc = { wHighAPos: [0, 0], wHighANeg: [0, 0], wLowAPos: [0, 0], wLowANeg: [0, 0] };
  for (const i of idx) {
    // w > 1 <=> log w > 0, decided on log w so exp rounding cannot move a sample across.
    const key = logRatio[i] > 0 ? (adv[i] > 0 ? 'wHighAPos' : 'wHighANeg') : adv[i] > 0 ? 'wLowAPos' : 'wLowANeg';
    acc[key][0] += 1;
    acc[key][1] += g[i];
  }
  const stat = ([n, s]: number[]): QuadrantStat => ({ n, meanG: n > 0 ? s / n : null });
  return { wHighAPos: stat(acc.wHighAPos), wHighANeg: stat(acc.wHighANeg), wLowAPos: stat(acc.wLowAPos), wLowANeg: stat(acc.wLowANeg) };
}

function pick(a: ArrayLike<number>, idx: number[]): Float64Array {
  const out = new Float64Array(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = a[idx[k]];
  return out;
}

function meanOf(a: ArrayLike<number>): number {
  return mean(a.length, (i) => a[i]);
}

/**
 * The diagnostic fields of an UpdateRecord for one batch. All arrays must have the same,
 * non-zero length and finite entries (the learner rejects bad batches before this); throws
 * an Error naming the mismatched field otherwise.
 */
export function summarizeBatch(input: BatchDiagnosticsInput): BatchDiagnostics {
  const n = input.logRatio.length;
  if (n === 0) throw new Error('summarizeBatch: empty batch (logRatio has length 0)');
  const fields: [string, ArrayLike<number> | null | undefined][] = [
    ['adv', input.adv],
    ['g', input.g],
    ['h', input.h],
    ['gamma', input.gamma],
    ['lag', input.lag],
  ];
  for (const [name, a] of fields) {
    if (a != null && a.length !== n) throw new Error(`summarizeBatch: ${name} has length ${a.length}, logRatio has ${n}`);
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = Math.exp(input.logRatio[i]);
  const sorted = Float64Array.from(w).sort();
  const all = Array.from({ length: n }, (_, i) => i);

  const byBucket = new Map<LagBucketLabel, number[]>();
  for (let i = 0; i < n; i++) {
    const b = lagBucket(input.lag[i]);
    const list = byBucket.get(b);
    if (list) list.push(i);
    else byBucket.set(b, [i]);
  }
  const lagBuckets: Partial<Record<LagBucketLabel, LagBucketStat>> = {};
  for (const [b, idx] of byBucket) {
    const wb = pick(w, idx);
    const gb = pick(input.g, idx);
    lagBuckets[b] = {
      n: idx.length,
      ess: ess(wb),
      essG: ess(gb),
      klMuPiK1: klMuPiK1(wb),
      klMuPiK3: klMuPiK3(wb),
      klPiMu: klPiMu(wb),
      meanG: meanOf(gb),
      quadrants: quadrants(idx, input.logRatio, input.adv, input.g),
    };
  }

  return {
    ess: ess(w),
    essG: ess(input.g),
    klMuPiK1: klMuPiK1(w),
    klMuPiK3: klMuPiK3(w),
    klPiMu: klPiMu(w),
    wQuantiles: { p05: quantile(sorted, 0.05), p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) },
    meanH: input.h ? meanOf(input.h) : null,
    meanGamma: input.gamma ? meanOf(input.gamma) : null,
    meanG: meanOf(input.g),
    quadrants: quadrants(all, input.logRatio, input.adv, input.g),
    lagBuckets,
    ...(input.seq ? { sequence: summarizeSequence(input, w, input.seq) } : {}),
  };
}
