/**
 * The sequence tasks' section of a comparison (issue 15): for runs on `seq-reverse`, `seq-sort`,
 * `seq-add` (and their `-vV-lL` variants), the final exact-match rates by method, teacher share
 * and lag. The teacher share comes from config.json `behaviour` (stale = 0, teacher = 1,
 * mix:P = P; absent = stale, the default); the method label is compare's row (the config label
 * plus every other varied flag, so `advantage=reward` or `objective.tauH=2` are part of it)
 * without `behaviour` and `env`, which are columns here. Per cell: the greedy exact-match rate
 * (summary finalEval.greedySuccess) as a mean over seeds with a 95% Student-t interval clipped to
 * [0, 1] (the same statistic as `npm run bench -- sequence` and the README's spectrum table), the
 * sampled exact-match rate (finalEval.success) and the sampled mean reward (finalEval.stochastic:
 * the fraction of positions right). Pure: takes RunData, returns figures and report blocks.
 */
import { teacherShareOf } from '../envs/config.js';
import { isSeqEnv } from '../envs/seq.js';
import { conditionFields, flagValue, lagSortKey, variedFlags } from './conditions.js';
import { dec, type Table } from './format.js';
import type { Block } from './layout.js';
import type { RunData } from './read.js';
import { meanCI } from './stats.js';

export const SEQUENCE_TITLE = 'Sequence task: exact match by teacher share and lag';

export const SEQUENCE_CI_METHOD =
  'mean over seeds with a 95% Student-t interval over seeds (df = n - 1, stats.ts meanCI), clipped to [0, 1]; one seed: no interval';

/** A rate's mean over seeds with its interval (null bounds: one seed, no interval). */
export interface RateCI {
  mean: number;
  lo: number | null;
  hi: number | null;
}

/** One cell: (env, method, teacher share, lag) over seeds. */
export interface SequenceRow {
  env: string;
  method: string;
  share: number;
  /** The `behaviour` spellings of the cell's runs (stale and mix:0 are both share 0). */
  behaviours: string[];
  lag: string;
  seeds: number[];
  /** Seeds whose finalEval has greedySuccess (the n of the interval). */
  n: number;
  /** finalEval.greedySuccess over seeds; null when no seed has it. */
  greedyExact: RateCI | null;
  /** Mean of finalEval.success over the seeds that have it. */
  sampledExact: number | null;
  /** Mean of finalEval.stochastic (mean reward of sampled responses) over the seeds that have it. */
  meanReward: number | null;
  /** Seeds without finalEval.greedySuccess (unfinished run or older log). */
  missing: number;
}

/** The best method(s) by mean greedy exact match at one (env, lag, share). */
export interface SequenceBest {
  env: string;
  lag: string;
  share: number;
  /** Every method at the highest mean (more than one on a tie). */
  methods: string[];
  greedyExact: RateCI;
  n: number;
  /** Methods with a greedy exact match at this (env, lag, share). */
  of: number;
}

export interface SequenceFigures {
  /** How the interval is computed. */
  ci: string;
  envs: string[];
  methods: string[];
  shares: number[];
  lags: string[];
  rows: SequenceRow[];
  best: SequenceBest[];
  /** One sentence per (env, lag): the best method at each teacher share. */
  summary: { env: string; lag: string; sentence: string }[];
  /** Sequence runs left out: their `behaviour` is not stale, teacher or mix:P. */
  skipped: string[];
}

/** The teacher share of a config's `behaviour`: stale 0, teacher 1, mix:P P, absent 0 (the default); null when unreadable. */
export function teacherShare(behaviour: unknown): number | null {
  if (behaviour === undefined) return 0;
  return typeof behaviour === 'string' ? teacherShareOf(behaviour.trim()) : null;
}

/**
 * The sequence figures of `runs`, or null when none is on a sequence task. Method labels are
 * computed over all `runs` (as compare does), so they match the comparison's rows.
 */
export function sequenceFigures(runs: readonly RunData[]): SequenceFigures | null {
  const configs = runs.map((r) => conditionFields(r.config as unknown as Record<string, unknown>));
  const varied = variedFlags(configs).filter((f) => f !== 'behaviour' && f !== 'env');
  const skipped: string[] = [];
  const points: { env: string; method: string; share: number; behaviour: string; lag: string; run: RunData }[] = [];
  runs.forEach((r, i) => {
    if (!isSeqEnv(r.config.env)) return;
    const raw = configs[i]!.behaviour;
    const share = teacherShare(raw);
    if (share === null) {
      skipped.push(`${r.dir} (behaviour ${flagValue(raw)})`);
      return;
    }
    points.push({
      env: r.config.env,
      method: [r.config.label, ...varied.map((f) => `${f}=${flagValue(configs[i]![f])}`)].join(' '),
      share,
      behaviour: typeof raw === 'string' ? raw.trim() : 'stale',
      lag: r.config.lag,
      run: r,
    });
  });
  if (points.length === 0 && skipped.length === 0) return null;

  const envs = [...new Set(points.map((p) => p.env))].sort();
  const methods = [...new Set(points.map((p) => p.method))].sort();
  const shares = [...new Set(points.map((p) => p.share))].sort((a, b) => a - b);
  const lags = [...new Set(points.map((p) => p.lag))].sort((a, b) => lagSortKey(a) - lagSortKey(b) || a.localeCompare(b));

  const rows: SequenceRow[] = [];
  for (const env of envs)
    for (const method of methods)
      for (const share of shares)
        for (const lag of lags) {
          const ps = points.filter((p) => p.env === env && p.method === method && p.share === share && p.lag === lag);
          if (ps.length === 0) continue;
          const fe = ps.map((p) => p.run.summary?.finalEval);
          const greedy = finite(fe.map((e) => e?.greedySuccess));
          rows.push({
            env,
            method,
            share,
            behaviours: [...new Set(ps.map((p) => p.behaviour))].sort(),
            lag,
            seeds: ps.map((p) => p.run.config.seed).sort((a, b) => a - b),
            n: greedy.length,
            greedyExact: greedy.length > 0 ? rateCI(greedy) : null,
            sampledExact: avg(finite(fe.map((e) => e?.success))),
            meanReward: avg(finite(fe.map((e) => e?.stochastic))),
            missing: ps.length - greedy.length,
          });
        }

  const best: SequenceBest[] = [];
  for (const env of envs)
    for (const lag of lags)
      for (const share of shares) {
        const rs = rows.filter((r) => r.env === env && r.lag === lag && r.share === share && r.greedyExact !== null);
        if (rs.length === 0) continue;
        const top = Math.max(...rs.map((r) => r.greedyExact!.mean));
        const at = rs.filter((r) => r.greedyExact!.mean === top);
        best.push({ env, lag, share, methods: at.map((r) => r.method), greedyExact: at[0]!.greedyExact!, n: at[0]!.n, of: rs.length });
      }
  const summary = envs.flatMap((env) =>
    lags
      .filter((lag) => rows.some((r) => r.env === env && r.lag === lag))
      .map((lag) => ({
        env,
        lag,
        sentence: sequenceSentence(
          lag,
          envs.length > 1 ? env : null,
          shares.filter((s) => rows.some((r) => r.env === env && r.lag === lag && r.share === s)),
          best.filter((b) => b.env === env && b.lag === lag),
        ),
      })),
  );
  return { ci: SEQUENCE_CI_METHOD, envs, methods, shares, lags, rows, best, summary, skipped };
}

/** Mean and Student-t interval of rates, the interval clipped to [0, 1]. */
export function rateCI(xs: readonly number[]): RateCI {
  const s = meanCI(xs);
  const clip = (x: number | null) => (x === null ? null : Math.min(1, Math.max(0, x)));
  return { mean: s.mean, lo: clip(s.lo), hi: clip(s.hi) };
}

/** '0.930 [0.890, 0.970]', or '0.930 (n=1)' without an interval. */
export function rateText(r: RateCI | null, n: number): string {
  if (r === null) return '-';
  return r.lo === null || r.hi === null ? `${dec(r.mean)} (n=${n})` : `${dec(r.mean)} [${dec(r.lo)}, ${dec(r.hi)}]`;
}

/** One sentence for a lag (and env when several): the method with the highest mean greedy exact match at each teacher share. */
export function sequenceSentence(lag: string, env: string | null, shares: readonly number[], best: readonly SequenceBest[]): string {
  const where = `At lag ${lag}${env === null ? '' : ` on ${env}`}`;
  const parts = shares.map((share, i) => {
    const at = i === 0 ? `at teacher share ${share}` : `at share ${share}`;
    const b = best.find((x) => x.share === share);
    if (!b) return `${at}, no run has a final greedy exact match`;
    const who = b.methods.length === 1 ? b.methods[0]! : `${list(b.methods)} tie`;
    const of = b.of > 1 ? `, of ${b.of} methods` : ', the only method run';
    return `${at}, ${who} with ${rateText(b.greedyExact, b.n)} over ${b.n} seed(s)${of}`;
  });
  return `${where}, the highest greedy exact match is: ${parts.join('; ')}.`;
}

/** The report blocks: the sentences, the method x lag by share pivot, then every cell. */
export function sequenceBlocks(f: SequenceFigures): Block[] {
  const multi = f.envs.length > 1;
  const pivotRows: string[][] = [];
  for (const env of f.envs)
    for (const method of f.methods)
      for (const lag of f.lags) {
        const rs = f.rows.filter((r) => r.env === env && r.method === method && r.lag === lag);
        if (rs.length === 0) continue;
        pivotRows.push([
          ...(multi ? [env] : []),
          method,
          lag,
          ...f.shares.map((s) => {
            const r = rs.find((x) => x.share === s);
            return r ? rateText(r.greedyExact, r.n) : '-';
          }),
        ]);
      }
  const pivot: Table = {
    title: 'Greedy exact match by method, lag and teacher share: mean [95% Student-t CI over seeds, clipped to [0, 1]]',
    headers: [...(multi ? ['env'] : []), 'method', 'lag', ...f.shares.map((s) => `share ${s}`)],
    rows: pivotRows,
    note: `Exact-match rate of the greedy (argmax) policy in the final evaluation (summary finalEval.greedySuccess): ${f.ci}. Teacher share: stale = 0, teacher = 1, mix:P = P.`,
  };
  const missing = f.rows.reduce((s, r) => s + r.missing, 0);
  const notes = [
    `greedy exact: finalEval.greedySuccess, ${f.ci}`,
    'sampled exact: finalEval.success and mean reward: finalEval.stochastic (fraction of positions right), both means over seeds of sampled responses',
  ];
  if (missing > 0) notes.push(`${missing} run(s) have no finalEval.greedySuccess (unfinished or older logs) and are left out of the means`);
  if (f.skipped.length > 0) notes.push(`left out, behaviour not stale, teacher or mix:P: ${f.skipped.join(', ')}`);
  const all: Table = {
    title: 'Sequence tasks: every cell (method, teacher share, lag) over seeds',
    headers: [
      ...(multi ? ['env'] : []),
      'method',
      'teacher share',
      'behaviour',
      'lag',
      'seeds',
      `greedy exact [95% t CI]`,
      'sampled exact',
      'mean reward (sampled)',
    ],
    rows: f.rows.map((r) => [
      ...(multi ? [r.env] : []),
      r.method,
      String(r.share),
      r.behaviours.join(', '),
      r.lag,
      String(r.seeds.length),
      rateText(r.greedyExact, r.n),
      dec(r.sampledExact),
      dec(r.meanReward),
    ]),
    note: notes.join('; ') + '.',
  };
  return [
    { kind: 'text', title: SEQUENCE_TITLE, lines: f.summary.map((s) => s.sentence) },
    { kind: 'table', table: pivot },
    { kind: 'table', table: all },
  ];
}

function finite(xs: readonly (number | null | undefined)[]): number[] {
  return xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
}

function avg(xs: readonly number[]): number | null {
  return xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}

function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}
