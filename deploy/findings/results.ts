/**
 * The findings results file (docs/findings/results.ndjson): one compact JSON line per finished
 * run, the only input of the report. A line is written from the run's own logs once `train`
 * has finished (its summary record), never edited afterwards.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { readRun, type RunData } from '../../analysis/read.js';
import { runOutcome } from '../../analysis/outcome.js';
import { learningCurve } from '../../analysis/tables.js';
import type { FindingsCell } from './grids.js';

/** Entropy (nats) under which a policy scoring below a random one counts as collapsed (docs/METHODS.md section 5.5). */
export const COLLAPSE_ENTROPY = 0.05;

/** One finished run. Field order is the order written. */
export interface ResultLine {
  /** FindingsCell.key: `g<grid>/<task>/<cell>`. */
  key: string;
  grid: number;
  task: string;
  family: string;
  env: string;
  method: string;
  /** Grid 2's varied values ('' elsewhere). */
  setting: string;
  lag: number;
  seed: number;
  /** The train arguments (without --run-dir and --quiet): the run's config. */
  args: string;
  /** Env steps trained (a run that reached its target return stops early). */
  envSteps: number;
  /** summary.finalEval: sampled and greedy mean return of the current policy at the end (100 episodes). */
  final: number | null;
  finalGreedy: number | null;
  /** Sequence tasks: exact-match rate of the sampled and of the greedy responses at the end. */
  success: number | null;
  greedySuccess: number | null;
  /** A uniformly random policy's return, measured by the learner at start-up. */
  random: number | null;
  /** Policy entropy (nats) of the last update. */
  entropy: number | null;
  /** Collapsed at the end: the last update flagged collapsed, or final entropy < 0.05 and the final evaluation below random. */
  collapsed: boolean;
  /** Any update was flagged collapsed. */
  everCollapsed: boolean;
  threshold: number;
  /** First env step from which the evaluation stays at or above the threshold (and the final evaluation is); null if never. */
  stepsToThreshold: number | null;
  stopReason: string | null;
  /** Wall time of the `train` command, seconds (start-up and final evaluation included). */
  wallS: number;
  /** `git rev-parse --short HEAD` of the code that ran it. */
  code: string;
}

/** The run's result line, from its logs. `wallMs` is the train command's wall time. */
export function resultOf(cell: FindingsCell, run: RunData, wallMs: number, code: string): ResultLine {
  const out = runOutcome(run.updates, run.summary, run.config);
  const fe = out.finalEval;
  const curve = learningCurve(run.updates, run.summary, cell.task.threshold);
  const collapsed =
    out.collapsedAtEnd ||
    (out.finalEntropy !== null &&
      out.finalEntropy < COLLAPSE_ENTROPY &&
      fe !== null &&
      out.randomReturn !== null &&
      fe.stochastic < out.randomReturn);
  const args: string[] = [];
  for (let i = 0; i < cell.cell.args.length; i++) {
    const a = cell.cell.args[i]!;
    if (a === '--run-dir') i++;
    else if (a !== '--quiet') args.push(a);
  }
  return {
    key: cell.key,
    grid: cell.grid,
    task: cell.task.id,
    family: cell.task.family,
    env: cell.task.env,
    method: cell.method,
    setting: cell.setting,
    lag: cell.lag,
    seed: cell.seed,
    args: args.join(' '),
    envSteps: run.summary?.envSteps ?? run.updates[run.updates.length - 1]?.envSteps ?? 0,
    final: fe?.stochastic ?? null,
    finalGreedy: fe?.greedy ?? null,
    success: fe?.success ?? null,
    greedySuccess: fe?.greedySuccess ?? null,
    random: out.randomReturn,
    entropy: out.finalEntropy === null ? null : round(out.finalEntropy, 6),
    collapsed,
    everCollapsed: out.collapsedAt !== null,
    threshold: cell.task.threshold,
    stepsToThreshold: curve.stepsToThreshold,
    stopReason: out.stopReason,
    wallS: round(wallMs / 1000, 1),
    code,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Read the run directory of `cell` and make its line. */
export async function resultOfRunDir(cell: FindingsCell, wallMs: number, code: string): Promise<ResultLine> {
  return resultOf(cell, await readRun(cell.cell.runDir), wallMs, code);
}

const REQUIRED: (keyof ResultLine)[] = ['key', 'grid', 'task', 'family', 'method', 'lag', 'seed', 'collapsed', 'wallS', 'code'];

/**
 * Every line of a results file, in file order; the last line of a key wins (a run redone).
 * A missing file is no results. Throws on a line that is not a result, naming the line.
 */
export async function readResults(file: string): Promise<ResultLine[]> {
  if (!existsSync(file)) return [];
  const text = await readFile(file, 'utf8');
  const byKey = new Map<string, ResultLine>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not JSON`);
    }
    const o = r as Record<string, unknown>;
    const missing = REQUIRED.filter((k) => o[k] === undefined);
    if (missing.length > 0) throw new Error(`${file}:${i + 1}: not a findings result (missing ${missing.join(', ')})`);
    byKey.delete(String(o.key));
    byKey.set(String(o.key), o as unknown as ResultLine);
  });
  return [...byKey.values()];
}

/** Append one line to the results file (creating it and its directory). */
export async function appendResult(file: string, r: ResultLine): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(r)}\n`);
}
