/**
 * The sequence benchmark (issue 15): the SFT <-> RL spectrum on a sequence task. Each cell is a
 * real `train` child run
 *   node dist/deploy/cli.js train --preset seq --env TASK --method M [options]
 *     --behaviour mix:P --lag fixed:K --seed S --steps N --run-dir <out>/<share>/<cell> --quiet
 * run by the sweep's grid runner (cells whose run dir already holds a summary are reused). The
 * table gives, per method, teacher share P and lag K, the final exact-match rate of the greedy
 * policy (finalEval.greedySuccess) with a 95% Student-t CI over seeds, the sampled exact-match
 * rate and the mean reward of the sampled responses.
 * Flags: --methods (default: every method of the sweep, plus sft-reward after sft) --shares 0,0.25,0.5,1 --lags 0,16
 *        --seeds 3 --steps 200000 --parallel 1 --env seq-reverse --out DIR --quick
 * `sft-reward` is sft with `--advantage reward` (A = R, no baseline: reward-weighted imitation).
 * --quick: 2 seeds of 50000 tokens.
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { meanCI } from '../analysis/stats.js';
import { renderText, type Table } from '../analysis/format.js';
import { UsageError } from '../deploy/errors.js';
import {
  DEFAULT_SWEEP_METHODS,
  parseLags,
  parseMethods,
  runGrid,
  sweepCells,
  type MethodSpec,
  type SweepCell,
} from '../deploy/sweepGrid.js';
import { isSeqEnv } from '../envs/seq.js';
import type { EvalStat } from '../protocol/records.js';
import { parseBenchArgs } from '../deploy/commandFields.js';
import { resultsDir, stamp } from './results.js';

const CLI = fileURLToPath(new URL('../deploy/cli.js', import.meta.url));

export interface SequenceOptions {
  methods: string;
  shares: number[];
  lags: string;
  seeds: number;
  steps: number;
  parallel: number;
  env: string;
  out: string;
  quick: boolean;
}

export interface SequenceCell {
  name: string;
  label: string;
  share: number;
  lag: number;
  seed: number;
  greedySuccess: number;
  success: number;
  meanReward: number;
  wallSeconds: number;
}

export interface SequenceRow {
  label: string;
  share: number;
  lag: number;
  seeds: number;
  greedySuccess: { mean: number; lo: number | null; hi: number | null };
  success: number;
  meanReward: number;
}

export interface SequenceResults {
  options: SequenceOptions;
  commands: string[];
  failed: string[];
  cells: SequenceCell[];
  rows: SequenceRow[];
  seconds: number;
}

/** Parse the sequence flags (argv after 'sequence'); throws a UsageError naming the bad flag. */
export function parseSequenceArgs(argv: string[]): SequenceOptions {
  // The flags, their defaults and checks are the rows of 'bench sequence' in deploy/commandFields.ts.
  const values = parseBenchArgs('bench sequence', argv);
  const quick = values.quick === true;
  const env = values.env as string;
  if (!isSeqEnv(env)) throw new UsageError(`--env: '${env}' is not a sequence task (seq-reverse, seq-sort, seq-add)`);
  const shares = (values.shares as string).split(',').map((s) => Number(s.trim()));
  if (shares.some((p) => !Number.isFinite(p) || p < 0 || p > 1))
    throw new UsageError(`--shares: '${String(values.shares)}' must be comma-separated numbers in [0, 1]`);
  return {
    methods: (values.methods as string | undefined) ?? SEQUENCE_METHODS,
    shares,
    lags: values.lags as string,
    seeds: (values.seeds as number | undefined) ?? (quick ? 2 : 3),
    steps: (values.steps as number | undefined) ?? (quick ? 50_000 : 200_000),
    parallel: values.parallel as number,
    env,
    quick,
    out: (values.out as string | undefined) ?? path.join(resultsDir(), `sequence-${stamp()}`),
  };
}

/** Every method (the sweep's default list) with `sft-reward` right after `sft`. */
export const SEQUENCE_METHODS: string = DEFAULT_SWEEP_METHODS.split(',')
  .flatMap((m) => (m === 'sft' ? ['sft', 'sft-reward'] : [m]))
  .join(',');

/** The method list: the sweep's syntax plus `sft-reward` (sft with --advantage reward). */
export function sequenceMethods(s: string): MethodSpec[] {
  return s
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '')
    .map((m) => {
      if (m !== 'sft-reward') return parseMethods(m)[0]!;
      return { method: 'sft', options: [['advantage', 'reward']], label: 'sft advantage=reward', slug: 'sft-reward' } satisfies MethodSpec;
    });
}

/** Every (share, method, lag, seed) cell; each share in its own sub-directory. */
export function sequenceCells(o: SequenceOptions): (SweepCell & { share: number })[] {
  const methods = sequenceMethods(o.methods);
  const lags = parseLags(o.lags);
  return o.shares.flatMap((share) =>
    sweepCells({
      methods,
      lags,
      seeds: o.seeds,
      env: o.env,
      steps: o.steps,
      out: path.join(o.out, `share-${share}`),
      preset: 'seq',
      extra: ['--behaviour', `mix:${share}`],
    }).map((c) => ({ ...c, share })),
  );
}

function summaryOf(runDir: string): { finalEval: EvalStat; wallSeconds: number } {
  return JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { finalEval: EvalStat; wallSeconds: number };
}

/** Run the grid (resuming finished cells), print the table, return the figures. */
export async function runSequence(o: SequenceOptions, say: (s: string) => void = (s) => console.log(s)): Promise<SequenceResults> {
  const t0 = performance.now();
  const cells = sequenceCells(o);
  const methods = sequenceMethods(o.methods);
  say(
    `sequence bench: ${o.env}, ${cells.length} cell(s) (${methods.map((m) => m.label).join(', ')} x teacher shares ${o.shares.join(',')} x lags ${o.lags} x ${o.seeds} seed(s)), ${o.steps} tokens each, ${o.parallel} at once; runs in ${o.out}`,
  );
  const done: SequenceCell[] = [];
  const failed: string[] = [];
  const shareOf = new Map(cells.map((c) => [c.runDir, c.share]));
  await runGrid(cells, {
    cli: CLI,
    logDir: path.join(o.out, '_logs'),
    parallel: o.parallel,
    onCell: ({ cell, code, reused, ms, log }) => {
      const share = shareOf.get(cell.runDir)!;
      if (code !== 0) {
        failed.push(`${cell.name} share ${share} (exit ${code}, log ${log})`);
        say(`  share ${share} ${cell.name}: FAILED exit ${code}`);
        return Promise.resolve();
      }
      const s = summaryOf(cell.runDir);
      const f: SequenceCell = {
        name: cell.name,
        label: cell.spec.label,
        share,
        lag: cell.lag,
        seed: cell.seed,
        greedySuccess: s.finalEval.greedySuccess ?? NaN,
        success: s.finalEval.success ?? NaN,
        meanReward: s.finalEval.stochastic,
        wallSeconds: s.wallSeconds,
      };
      done.push(f);
      say(
        `  share ${share} ${cell.name}: ${reused ? 'reused' : `${(ms / 1000).toFixed(1)} s`}, exact ${f.greedySuccess.toFixed(3)} greedy / ${f.success.toFixed(3)} sampled, mean reward ${f.meanReward.toFixed(3)}`,
      );
      return Promise.resolve();
    },
  });
  const rows: SequenceRow[] = [];
  for (const m of methods) {
    for (const share of o.shares) {
      for (const lag of parseLags(o.lags)) {
        const g = done.filter((c) => c.label === m.label && c.share === share && c.lag === lag);
        if (g.length === 0) continue;
        const ci = meanCI(g.map((c) => c.greedySuccess));
        // A rate lies in [0, 1]: the Student-t interval is clipped to it.
        const clip = (x: number | null) => (x === null ? null : Math.min(1, Math.max(0, x)));
        const avg = (f: (c: SequenceCell) => number) => g.reduce((a, c) => a + f(c), 0) / g.length;
        rows.push({
          label: m.label,
          share,
          lag,
          seeds: g.length,
          greedySuccess: { mean: ci.mean, lo: clip(ci.lo), hi: clip(ci.hi) },
          success: avg((c) => c.success),
          meanReward: avg((c) => c.meanReward),
        });
      }
    }
  }
  say('');
  say(renderText(sequenceTable(o, rows)));
  if (failed.length > 0) say(`\n${failed.length} cell(s) failed: ${failed.join('; ')}`);
  return {
    options: o,
    commands: cells.map((c) => `isreshape train ${c.args.join(' ')}`),
    failed,
    cells: done,
    rows,
    seconds: (performance.now() - t0) / 1000,
  };
}

const f3 = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(3));

/** The spectrum table: one row per (method, teacher share, lag). */
export function sequenceTable(o: SequenceOptions, rows: SequenceRow[]): Table {
  return {
    title: `Final exact-match rate on ${o.env} after ${o.steps} tokens (greedy, mean and Student-t 95% CI over seeds clipped to [0, 1]), by teacher share and lag`,
    headers: ['method', 'teacher share', 'lag', 'seeds', 'exact (greedy)', '95% CI', 'exact (sampled)', 'mean reward (sampled)'],
    rows: rows.map((r) => [
      r.label,
      String(r.share),
      String(r.lag),
      String(r.seeds),
      f3(r.greedySuccess.mean),
      r.greedySuccess.lo === null ? '-' : `[${f3(r.greedySuccess.lo)}, ${f3(r.greedySuccess.hi)}]`,
      f3(r.success),
      f3(r.meanReward),
    ]),
  };
}
