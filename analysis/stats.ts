/**
 * Statistics over seeds: mean with a 95% Student-t confidence interval, and Welch's unequal
 * variances t-test (two-sided) to decide which methods are statistically tied with the best.
 * The t distribution is computed exactly through the regularised incomplete beta function
 * (Numerical Recipes 6.4), so non-integer Welch degrees of freedom are handled.
 */

/** The test named in reports: keep in step with `welchTest` and `rankWithTies`. */
export const TIE_TEST_NAME =
  "Welch's unequal-variances t-test, two-sided, alpha = 0.05, of each method's final evaluation return against the best method's (highest IQM) at the same lag; p >= alpha means tied";

export const ALPHA = 0.05;

/** The arithmetic mean; throws a RangeError on no values (the one mean of analysis/). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean: no values');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Unbiased sample variance (n - 1 denominator); NaN for n < 2. */
export function sampleVariance(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
}

/** Mean and 95% CI over seeds. `halfWidth` is null (no CI) when n < 2. */
export interface MeanCI {
  n: number;
  mean: number;
  halfWidth: number | null;
  lo: number | null;
  hi: number | null;
}

/** Mean and a `level` (default 0.95) Student-t CI with df = n - 1; no CI for n = 1. Throws on n = 0. */
export function meanCI(xs: readonly number[], level = 0.95): MeanCI {
  if (xs.length === 0) throw new RangeError('meanCI: no values');
  const m = mean(xs);
  if (xs.length < 2) return { n: xs.length, mean: m, halfWidth: null, lo: null, hi: null };
  const h = tQuantile(1 - (1 - level) / 2, xs.length - 1) * Math.sqrt(sampleVariance(xs) / xs.length);
  return { n: xs.length, mean: m, halfWidth: h, lo: m - h, hi: m + h };
}

export interface WelchResult {
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Welch's t-test of mean(a) vs mean(b), two-sided. Needs n >= 2 in both (throws RangeError
 * otherwise). Zero variance in both: p = 1 if the means are equal, else 0.
 */
export function welchTest(a: readonly number[], b: readonly number[]): WelchResult {
  if (a.length < 2 || b.length < 2) throw new RangeError(`welchTest: needs n >= 2 in both samples, got ${a.length} and ${b.length}`);
  const va = sampleVariance(a) / a.length;
  const vb = sampleVariance(b) / b.length;
  const diff = mean(a) - mean(b);
  const se2 = va + vb;
  if (se2 === 0) return { t: diff === 0 ? 0 : Math.sign(diff) * Infinity, df: a.length + b.length - 2, p: diff === 0 ? 1 : 0 };
  const t = diff / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { t, df, p: tTwoSidedP(t, df) };
}

/** One method's row in a rank table. */
export interface RankRow {
  key: string;
  values: number[];
  stat: MeanCI;
  /** 1 = highest mean. */
  rank: number;
  isBest: boolean;
  /** p of the Welch test against the best; null for the best itself or when n < 2 on either side. */
  p: number | null;
  /** Tied with the best (true for the best itself); null when no test was possible. */
  tied: boolean | null;
  note: string;
}

/** Rank groups by mean (descending) and test each against the best (see TIE_TEST_NAME). */
export function rankWithTies(groups: readonly { key: string; values: number[] }[], alpha = ALPHA): RankRow[] {
  const rows = groups
    .filter((g) => g.values.length > 0)
    .map((g) => ({ key: g.key, values: g.values, stat: meanCI(g.values) }))
    .sort((x, y) => y.stat.mean - x.stat.mean);
  const best = rows[0];
  return rows.map((r, i) => {
    if (i === 0) return { ...r, rank: 1, isBest: true, p: null, tied: true, note: 'best' };
    if (r.values.length < 2 || best!.values.length < 2) {
      return { ...r, rank: i + 1, isBest: false, p: null, tied: null, note: 'n < 2: no test' };
    }
    const { p } = welchTest(r.values, best!.values);
    return { ...r, rank: i + 1, isBest: false, p, tied: p >= alpha, note: p >= alpha ? 'tied' : 'worse' };
  });
}

/** Student t CDF with `df` > 0 degrees of freedom. */
export function tCdf(t: number, df: number): number {
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = betaRegularized(df / (df + t * t), df / 2, 0.5) / 2;
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value P(|T| >= |t|) for Student t with `df` degrees of freedom. */
export function tTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return betaRegularized(df / (df + t * t), df / 2, 0.5);
}

/** The p-quantile of Student t with `df` degrees of freedom (bisection on tCdf to 1e-12). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tQuantile: p must be in (0, 1), got ${p}`);
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Regularised incomplete beta I_x(a, b). */
export function betaRegularized(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaCf(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaCf(1 - x, b, a)) / b;
}

function betaCf(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Gamma(z) for z > 0 (Lanczos, g = 7). */
export function lnGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  const zz = z - 1;
  let x = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) x += LANCZOS[i]! / (zz + i);
  const t = zz + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(t) - t + Math.log(x);
}
