/**
 * The continuous-action benchmark (issue 13): Pendulum-v1 with the Gaussian policy and the
 * `pendulum` preset, for ppo and v5 --floor neg-is, seeds 1..3, each a real `train` child
 *   node dist/deploy/cli.js train --env Pendulum-v1 --preset pendulum --method M [--floor neg-is]
 *     --seed S --steps 300000 --run-dir <out>/<cell> --quiet [--target-return R]
 * at most --parallel at once (cells whose run dir already holds summary.json are reused).
 * Prints one row per run (final 100-episode evaluation, sampling and greedy; steps; wall) and
 * per method how many seeds reached the bar (final sampling evaluation >= --bar, default -400).
 * Flags: --seeds 3 --steps 300000 --parallel 2 --bar=-400 --target-return=R --out DIR (negative values
 * with '=', as node:util parseArgs requires)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from '../deploy/commandFields.js';
import { resultsDir, stamp } from './results.js';

const CLI = fileURLToPath(new URL('../deploy/cli.js', import.meta.url));
const METHODS: Record<string, string[]> = { ppo: ['--method', 'ppo'], 'v5 neg-is': ['--method', 'v5', '--floor', 'neg-is'] };

export interface PendulumOptions {
  seeds: number;
  steps: number;
  parallel: number;
  bar: number;
  targetReturn: number | null;
  out: string;
}

export interface PendulumRow {
  method: string;
  seed: number;
  dir: string;
  /** Final evaluation over the summary's episodes (100), sampling and greedy; null when the run failed. */
  stochastic: number | null;
  greedy: number | null;
  envSteps: number | null;
  wallSeconds: number | null;
  stopReason: string | null;
}

export function parsePendulumArgs(argv: string[]): PendulumOptions {
  // The flags, their defaults and checks are the rows of 'bench pendulum' in deploy/commandFields.ts.
  const values = parseBenchArgs('bench pendulum', argv);
  return {
    seeds: values.seeds as number,
    steps: values.steps as number,
    parallel: values.parallel as number,
    bar: values.bar as number,
    targetReturn: (values['target-return'] as number | undefined) ?? null,
    out: path.resolve((values.out as string | undefined) ?? path.join(resultsDir(), `pendulum-${stamp(new Date())}`)),
  };
}

function runTrain(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'train', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

function readRow(method: string, seed: number, dir: string): PendulumRow {
  const file = path.join(dir, 'summary.json');
  if (!existsSync(file)) return { method, seed, dir, stochastic: null, greedy: null, envSteps: null, wallSeconds: null, stopReason: null };
  const s = JSON.parse(readFileSync(file, 'utf8')) as {
    finalEval?: { stochastic: number; greedy: number } | null;
    envSteps: number;
    wallSeconds: number;
    stopReason: string;
  };
  return {
    method,
    seed,
    dir,
    stochastic: s.finalEval?.stochastic ?? null,
    greedy: s.finalEval?.greedy ?? null,
    envSteps: s.envSteps,
    wallSeconds: s.wallSeconds,
    stopReason: s.stopReason,
  };
}

/** Run (or reuse) every cell, at most `parallel` at once; returns the rows in (method, seed) order. */
export async function runPendulum(o: PendulumOptions): Promise<{ options: PendulumOptions; rows: PendulumRow[]; seconds: number }> {
  const t0 = Date.now();
  const cells = Object.keys(METHODS).flatMap((m) =>
    Array.from({ length: o.seeds }, (_, i) => ({ method: m, seed: i + 1, dir: path.join(o.out, `${m.replace(/ /g, '-')}_s${i + 1}`) })),
  );
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cells.length) {
      const c = cells[next++];
      if (existsSync(path.join(c.dir, 'summary.json'))) continue;
      const args = [
        '--env',
        'Pendulum-v1',
        '--preset',
        'pendulum',
        ...METHODS[c.method],
        '--seed',
        String(c.seed),
        '--steps',
        String(o.steps),
        '--run-dir',
        c.dir,
        '--quiet',
        ...(o.targetReturn === null ? [] : ['--target-return', String(o.targetReturn)]),
      ];
      const code = await runTrain(args);
      process.stdout.write(`${c.method} seed ${c.seed}: exit ${code}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, cells.length) }, worker));
  const rows = cells.map((c) => readRow(c.method, c.seed, c.dir));
  return { options: o, rows, seconds: (Date.now() - t0) / 1000 };
}

const f1 = (x: number | null): string => (x === null ? 'failed' : x.toFixed(1));

/** The table: one line per run, then per method the seeds at or above the bar. */
export function pendulumTable(rows: PendulumRow[], bar: number): string {
  const lines = [
    'method     seed  final eval (100 ep, sampling)  greedy    steps    wall s  stop',
    ...rows.map(
      (r) =>
        `${r.method.padEnd(10)} ${String(r.seed).padStart(4)}  ${f1(r.stochastic).padStart(29)}  ${f1(r.greedy).padStart(7)}  ${String(r.envSteps ?? '-').padStart(7)}  ${(r.wallSeconds === null ? '-' : r.wallSeconds.toFixed(0)).padStart(7)}  ${r.stopReason ?? '-'}`,
    ),
  ];
  for (const m of [...new Set(rows.map((r) => r.method))]) {
    const mine = rows.filter((r) => r.method === m);
    const ok = mine.filter((r) => r.stochastic !== null && r.stochastic >= bar).length;
    const vals = mine.map((r) => r.stochastic).filter((x): x is number => x !== null);
    const mean = vals.length > 0 ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    lines.push(
      `${m}: ${ok}/${mine.length} seeds >= ${bar} (mean final eval ${f1(mean)})${ok >= Math.ceil((2 * mine.length) / 3) ? '' : '  BELOW THE BAR'}`,
    );
  }
  return lines.join('\n');
}
