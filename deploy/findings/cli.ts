/**
 * `npm run findings [-- --grid 1,2] [--seeds 0-4] [--jobs 1] [--dry-run] [--report-only]
 *  [--no-report] [--max-runs N] [--results docs/findings/results.ndjson] [--out runs/findings]`
 *
 * Runs the four grids of issue 23 (deploy/findings/grids.ts) as real `train` child processes
 * through the sweep's grid runner, one at a time by default, most informative cells first,
 * skipping every run the results file already holds (and reusing a finished run directory);
 * appends one line per finished run to the results file, then regenerates docs/FINDINGS.md and
 * docs/findings.html from the results file alone. `--report-only` does only the last step;
 * `--dry-run` lists the cells still to run, with counts and the estimated cost. Run it at low
 * priority on a shared machine: `nice -n 19 npm run findings`.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readRun } from '../../analysis/read.js';
import { UsageError } from '../errors.js';
import { runGrid } from '../sweepGrid.js';
import { findingsCells, parseGrids, parseSeeds, TASKS, type FindingsCell } from './grids.js';
import { findingsReport } from './report.js';
import { appendResult, readResults, resultOf, type ResultLine } from './results.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

export interface FindingsOptions {
  /** Print the usage and stop. */
  help: boolean;
  grids: number[];
  seeds: number[] | null;
  jobs: number;
  dryRun: boolean;
  reportOnly: boolean;
  /** Regenerate the report after every finished run (default true). */
  report: boolean;
  /** Stop after this many runs (null: all). */
  maxRuns: number | null;
  results: string;
  markdown: string;
  html: string;
  out: string;
}

export function parseFindingsArgs(argv: string[]): FindingsOptions {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        grid: { type: 'string' },
        seeds: { type: 'string' },
        jobs: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'report-only': { type: 'boolean' },
        'no-report': { type: 'boolean' },
        'max-runs': { type: 'string' },
        results: { type: 'string' },
        markdown: { type: 'string' },
        html: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    throw new UsageError(`findings: ${(err as Error).message}`);
  }
  const posInt = (flag: string, s: string | undefined, d: number | null): number | null => {
    if (s === undefined) return d;
    const x = Number(s);
    if (!Number.isInteger(x) || x < 1) throw new UsageError(`--${flag}: '${s}' is not a positive integer`);
    return x;
  };
  return {
    help: v.help === true,
    grids: parseGrids(v.grid),
    seeds: parseSeeds(v.seeds),
    jobs: posInt('jobs', v.jobs, 1)!,
    dryRun: v['dry-run'] === true,
    reportOnly: v['report-only'] === true,
    report: v['no-report'] !== true,
    maxRuns: posInt('max-runs', v['max-runs'], null),
    results: v.results ?? join('docs', 'findings', 'results.ndjson'),
    markdown: v.markdown ?? join('docs', 'FINDINGS.md'),
    html: v.html ?? join('docs', 'findings.html'),
    out: v.out ?? join('runs', 'findings'),
  };
}

/** Regenerate the markdown and HTML report from the results file alone. */
export async function writeFindingsReport(
  o: Pick<FindingsOptions, 'results' | 'markdown' | 'html'>,
): Promise<{ runs: number; charts: number }> {
  const results = await readResults(o.results);
  const r = await findingsReport(results);
  for (const [file, text] of [
    [o.markdown, r.markdown],
    [o.html, r.html],
  ] as const) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return { runs: results.length, charts: r.charts };
}

/** `git rev-parse --short HEAD`, or 'unknown'. */
export function codeVersion(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** The cells to run: the chosen grids and seeds, minus those in the results file, in run order. */
export function pendingCells(
  all: readonly FindingsCell[],
  o: Pick<FindingsOptions, 'grids' | 'seeds'>,
  results: readonly ResultLine[],
): FindingsCell[] {
  const done = new Set(results.map((r) => r.key));
  return all.filter((c) => o.grids.includes(c.grid) && (o.seeds === null || o.seeds.includes(c.seed)) && !done.has(c.key));
}

/** Seconds a run of `task` takes: the mean of its finished runs, else the task's prior estimate. */
function estimate(task: string, results: readonly ResultLine[]): number {
  const xs = results.filter((r) => r.task === task).map((r) => r.wallS);
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : TASKS[task]!.estSeconds;
}

function hours(s: number): string {
  return s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`;
}

/** The dry run's text: every pending cell in run order, then counts and estimated cost per grid and task. */
export function dryRunText(
  all: readonly FindingsCell[],
  pending: readonly FindingsCell[],
  results: readonly ResultLine[],
  jobs: number,
): string {
  const lines = pending.map((c, i) => `${String(i + 1).padStart(5)}  tier ${c.tier}  ${c.key}`);
  lines.push('', 'grid  task                    planned  done  to run  est. s/run  est. cost');
  let total = 0;
  const done = new Set(results.map((r) => r.key));
  const keys = [...new Set(all.map((c) => `${c.grid}|${c.task.id}`))];
  for (const k of keys) {
    const [g, t] = k.split('|') as [string, string];
    const planned = all.filter((c) => String(c.grid) === g && c.task.id === t);
    const todo = pending.filter((c) => String(c.grid) === g && c.task.id === t).length;
    const est = estimate(t, results);
    total += todo * est;
    lines.push(
      `${g.padEnd(4)}  ${t.padEnd(22)}  ${String(planned.length).padStart(7)}  ${String(planned.filter((c) => done.has(c.key)).length).padStart(4)}  ${String(todo).padStart(6)}  ${est.toFixed(0).padStart(10)}  ${hours(todo * est).padStart(9)}`,
    );
  }
  lines.push(
    `total: ${pending.length} run(s) to go, about ${hours(total / jobs)} at ${jobs} at a time (est. s/run: the mean of finished runs, else the task's prior)`,
  );
  return `${lines.join('\n')}\n`;
}

/** `npm run findings -- --help`. */
export const USAGE = `npm run findings [-- FLAGS]: run the findings grids (deploy/findings/grids.ts) as real train runs, then write the report
  --grid 1,2          grids to run (default all: 1 CartPole methods x lags, 2 v5 in the draft's ranges, 3 Acrobot/Pendulum, 4 seq-reverse)
  --seeds 0-4         seeds to run, numbers and ranges (default every planned seed)
  --jobs N            runs at once (default 1; run it under nice -n 19 on a shared machine)
  --max-runs N        stop after N runs
  --dry-run           list the runs still to do, in run order, with counts and the estimated cost
  --report-only       regenerate the report from the results file alone, without training
  --no-report         do not regenerate the report after each finished run (it is still written at the end)
  --results FILE      results file (default docs/findings/results.ndjson)
  --markdown FILE     markdown report (default docs/FINDINGS.md)
  --html FILE         HTML report (default docs/findings.html)
  --out DIR           run directories (default runs/findings; a finished one is reused)
`;

export async function runFindings(o: FindingsOptions, say: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<void> {
  if (o.help) {
    say(USAGE.trimEnd());
    return;
  }
  if (o.reportOnly) {
    const r = await writeFindingsReport(o);
    say(`findings: report from ${r.runs} run(s): ${o.markdown}, ${o.html} (${r.charts} charts)`);
    return;
  }
  const all = findingsCells(o.out);
  const results = await readResults(o.results);
  let pending = pendingCells(all, o, results);
  if (o.dryRun) {
    say(dryRunText(all, pending, results, o.jobs).trimEnd());
    return;
  }
  if (o.maxRuns !== null) pending = pending.slice(0, o.maxRuns);
  const code = codeVersion();
  const byDir = new Map(pending.map((c) => [c.cell.runDir, c]));
  say(
    `findings: ${pending.length} run(s) to go (${all.length} planned, ${results.length} in ${o.results}), ${o.jobs} at a time, code ${code}, runs in ${o.out}`,
  );
  let finished = 0;
  let failed = 0;
  await runGrid(
    pending.map((c) => c.cell),
    {
      cli: CLI,
      logDir: join(o.out, '_logs'),
      parallel: o.jobs,
      onCell: async (r) => {
        const fc = byDir.get(r.cell.runDir)!;
        if (r.code !== 0) {
          failed++;
          say(`  FAILED ${fc.key}: exit ${r.code}, log ${r.log}`);
          return;
        }
        const run = await readRun(r.cell.runDir);
        // A reused run directory (finished before, no line yet): its own wall time.
        const ms = r.reused ? (run.summary?.wallSeconds ?? 0) * 1000 : r.ms;
        const line = resultOf(fc, run, ms, code);
        await appendResult(o.results, line);
        finished++;
        say(
          `  [${finished}/${pending.length}] ${fc.key}: ${r.reused ? 'reused, ' : ''}final ${line.final ?? '-'}${line.greedySuccess !== null ? ` (greedy exact ${line.greedySuccess})` : ''}${line.collapsed ? ', COLLAPSED' : ''}, ${line.wallS} s`,
        );
        if (o.report) await writeFindingsReport(o);
      },
    },
  );
  const rep = await writeFindingsReport(o);
  say(`findings: ${finished} run(s) finished, ${failed} failed; report from ${rep.runs} run(s): ${o.markdown}, ${o.html}`);
  if (failed > 0) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await runFindings(parseFindingsArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError ? '' : 'findings: '}${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
