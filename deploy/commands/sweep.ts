/**
 * `isreshape sweep [--methods ppo,v5,v5:floor=neg-is] [--lags 0,4,16,64] [--seeds 3]
 *  [--env CartPole-v1] [--steps 60000] [--parallel cores] [--out runs/sweep-<env>-<time>]
 *  [--preset cartpole|acrobot|none] [--target-return 475|none] [--vary FLAG=V1,V2 ...]
 *  [--extra '...flags']`: run `train` for every (method, varied values, lag, seed) cell (each
 * `--vary` a further grid axis over any training flag) as a child process, at most P at once, skipping cells whose
 * run dir already holds a summary record (resume), then write the compare report over <out>.
 * Each child's stdout and stderr go to <out>/_logs/<cell>.log.
 */
import { join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { requireFinite, UsageError } from '../errors.js';
import {
  cellDone,
  checkVaryClashes,
  defaultSweepOut,
  parseLags,
  parseMethods,
  parseVary,
  presetForEnv,
  latestEnvSteps,
  runGrid,
  splitWords,
  sweepCells,
  targetForEnv,
  type CellRunner,
} from '../sweepGrid.js';
import { PRESETS } from '../presets.js';
import { checkEnvId } from '../config.js';
import { loadEnvModuleOf } from '../envModule.js';
import { loadConfigFile } from '../runConfig.js';
import { buildConfig } from '../options.js';
import { checkCommandFlag, commandOptions } from '../commandFields.js';
import { runCompare } from './compare.js';
import { formatSweepProgress } from '../progress.js';

export { cellDone };

export interface SweepArgs {
  /** Comma-separated methods, options after ':' (v5:floor=neg-is). */
  methods: string;
  /** Comma-separated fixed lags in versions; 0 = no lag. Default 0,4,16,64. */
  lags: string;
  /** Seeds per cell, 0..seeds-1. Default 3. */
  seeds: number;
  /** Default: the --preset's environment, else CartPole-v1. */
  env?: string;
  /** Env steps per run. Default: the --preset's steps when --preset is given, else 60000. */
  steps?: number;
  /** Cells run at once. Default: the number of cores (os.availableParallelism()). */
  parallel: number;
  /** Default runs/sweep-<env>-<timestamp>. */
  out?: string;
  /** Train preset for every run; default by env (cartpole, acrobot), 'none' for no preset. */
  preset?: string;
  /** Train --target-return for every run; default 475 on CartPole-v1, 'none' for none. */
  targetReturn?: string;
  /** Repeatable `FLAG=V1,V2,...`: a training flag swept as another grid axis. */
  vary?: string[];
  /** Extra flags appended to every train command. */
  extra: string;
  /** Return counted as solved in the comparison; default the target return, else the environment's (analysis/thresholds.ts). */
  threshold?: number;
  /** Train --config FILE for every run (the sweep's flags override it). */
  config?: string;
  /** Seconds between progress lines while cells run (default: 1 on a terminal, 10 otherwise; 0: only a line per cell started and finished). */
  progressEvery?: number;
  /** Hidden: the CLI script to spawn `train` with (default: this CLI). For tests. */
  cli?: string;
}

export interface SweepDeps {
  /** Runs one cell (default: `train` as a child process). Tests pass fakes. */
  runCell?: CellRunner;
}

/** The sweep command; `deps` replaces how a cell is run (tests). */
export function makeSweepCommand(deps: SweepDeps = {}): CommandModule<object, SweepArgs> {
  return {
    command: 'sweep',
    describe: 'Run train over methods x lags x seeds (x any --vary flag; resumable), then compare them all',
    // The options are the sweep's rows of deploy/commandFields.ts (flag, type, default, help, group).
    builder: (y) => y.options(commandOptions('sweep')) as unknown as Argv<SweepArgs>,
    handler: async (argv) => {
      const methods = parseMethods(argv.methods);
      const lags = parseLags(argv.lags);
      const seeds = positiveInt('seeds', argv.seeds);
      const parallel = positiveInt('parallel', argv.parallel);
      // An explicit --preset supplies the environment and the steps the sweep's own flags leave out.
      const named = argv.preset !== undefined && argv.preset !== 'none' ? PRESETS[parsePreset(argv.preset, '')!] : undefined;
      const env = argv.env ?? named?.config.env ?? 'CartPole-v1';
      const steps = positiveInt('steps', argv.steps ?? named?.config.steps ?? DEFAULT_SWEEP_STEPS);
      const cli = argv.cli ?? process.argv[1]!;
      const preset = parsePreset(argv.preset, env);
      const targetReturn = parseTarget(argv.targetReturn, env);
      const threshold =
        argv.threshold !== undefined
          ? { value: requireFinite('threshold', argv.threshold), source: '--threshold' }
          : targetReturn !== null
            ? { value: targetReturn, source: 'the target return' }
            : undefined;
      const out = argv.out ?? defaultSweepOut(env);
      const config = argv.config === undefined ? undefined : resolve(argv.config);
      if (config !== undefined) {
        await loadEnvModuleOf({ config }); // the file may name an --env-module (every run loads it too)
        buildConfig({}, { file: loadConfigFile(config) });
      }
      // --env-module (or one inside --extra) is loaded here so that --env may name its envs; every cell gets its absolute path.
      const extraWords = splitWords(argv.extra);
      const inExtra = extraWords.findIndex((w) => w === '--env-module' || w.startsWith('--env-module='));
      let envModule = argv.envModule as string | undefined;
      if (inExtra >= 0) {
        const w = extraWords[inExtra]!;
        const v = w.includes('=') ? w.slice(w.indexOf('=') + 1) : extraWords[inExtra + 1];
        extraWords.splice(inExtra, w.includes('=') ? 1 : 2);
        if (envModule !== undefined && v !== undefined && resolve(v) !== resolve(envModule))
          throw new UsageError(`--env-module: given twice (${envModule} and, in --extra, ${v}); give it once`);
        envModule ??= v;
      }
      if (envModule !== undefined) {
        envModule = resolve(envModule);
        await loadEnvModuleOf({ 'env-module': envModule });
      }
      // The environment is checked here, before any cell starts (each cell would fail alike).
      checkEnvId(env);
      const vary = parseVary(argv.vary);
      const extra = [...extraWords, ...(envModule !== undefined ? ['--env-module', envModule] : [])];
      checkVaryClashes(vary, methods, extra);
      const cells = sweepCells({ methods, lags, seeds, env, steps, out, extra, preset, targetReturn, config, vary });
      const logDir = join(out, '_logs');

      const done = new Set<string>();
      for (const c of cells) if (await cellDone(c.runDir)) done.add(c.name);
      const total = cells.length;
      let finished = done.size;
      const toRun = total - done.size;
      const failed: string[] = [];
      const tty = process.stdout.isTTY === true;
      const progressEvery = argv.progressEvery ?? (tty ? 1 : 10);
      if (!Number.isFinite(progressEvery) || progressEvery < 0)
        throw new UsageError(`--progress-every: ${progressEvery} must be a number of seconds >= 0`);
      // On a terminal the progress line is redrawn in place; a line that must stay ends it first.
      let onLine = false;
      const say = (line: string) => {
        process.stdout.write(tty ? `${onLine ? '\r\x1b[K' : ''}${line}\n` : `${line}\n`);
        onLine = false;
      };
      const draw = (line: string) => {
        process.stdout.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
        onLine = tty;
      };
      if (finished > 0) say(`[${finished}/${total}] ${finished} cell(s) already done, skipped`);
      say(
        `sweep: ${total} cells (${methods.length} methods x ${vary.map((a) => `${a.values.length} ${a.flag} x `).join('')}${lags.length} lags x ${seeds} seeds), ${steps} steps each, preset ${preset ?? 'none'}, target return ${targetReturn ?? 'none'}, out ${out}`,
      );

      const start = Date.now();
      let ranHere = 0;
      let cellMsSum = 0;
      // The running cells and the steps their learners logged (polled for the progress line).
      const running = new Map<string, { name: string; runDir: string; envSteps: number }>();
      const progress = () =>
        formatSweepProgress(
          {
            done: finished,
            total,
            failed: failed.length,
            toRun,
            finishedHere: ranHere,
            steps,
            running: [...running.values()],
            elapsedMs: Date.now() - start,
          },
          tty ? process.stdout.columns : undefined,
        );
      let polling = false;
      const tick = async () => {
        if (polling) return;
        polling = true;
        try {
          for (const r of running.values()) r.envSteps = Math.max(r.envSteps, await latestEnvSteps(r.runDir));
          if (running.size > 0) draw(progress());
        } finally {
          polling = false;
        }
      };
      const timer = progressEvery > 0 ? setInterval(() => void tick(), progressEvery * 1000) : undefined;
      try {
        await runGrid(
          cells.filter((c) => !done.has(c.name)),
          {
            cli,
            logDir,
            parallel,
            ...(deps.runCell ? { runCell: deps.runCell } : {}),
            onStart: (c) => {
              running.set(c.name, { name: c.name, runDir: c.runDir, envSteps: 0 });
              if (tty) draw(progress());
              else say(`[${finished}/${total}] started ${c.name}`);
            },
            onCell: (r) => {
              running.delete(r.cell.name);
              if (r.reused) return;
              finished++;
              ranHere++;
              cellMsSum += r.ms;
              if (r.code !== 0) failed.push(`${r.cell.name} (exit ${r.code}, log ${r.log})`);
              const eta = etaText(Date.now() - start, cellMsSum / ranHere, total - finished, parallel);
              say(
                `[${finished}/${total}] ${r.cell.name} ${r.code === 0 ? 'ok' : `FAILED exit ${r.code}`} ${(r.ms / 1000).toFixed(1)}s; ${eta}${tty ? `, ${failed.length} failed` : ''}`,
              );
              if (tty && running.size > 0) draw(progress());
            },
          },
        );
      } finally {
        clearInterval(timer);
      }
      if (onLine) process.stdout.write('\n');

      if (failed.length === total) throw new Error(`every cell failed; first: ${failed[0]}`);
      process.stdout.write(await runCompare([out], out, false, threshold));
      if (failed.length > 0) throw new Error(`${failed.length} of ${total} cell(s) failed: ${failed.join('; ')}`);
    },
  };
}

export const sweepCommand: CommandModule<object, SweepArgs> = makeSweepCommand();

/**
 * `elapsed 1m05s, ETA 3m20s`: the remaining cells at the mean duration of the cells run so far,
 * `parallel` at a time (the last wave may be partial, so at most `remaining` at a time).
 */
export function etaText(elapsedMs: number, meanCellMs: number, remaining: number, parallel: number): string {
  const eta = remaining === 0 ? 0 : Number.isFinite(meanCellMs) ? (meanCellMs * remaining) / Math.min(parallel, remaining) : null;
  return `elapsed ${duration(elapsedMs)}, ETA ${eta === null ? '?' : duration(eta)}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Sweep --steps without a preset: measured on CartPole (see the option's help). */
const DEFAULT_SWEEP_STEPS = 60_000;

function parsePreset(v: string | undefined, env: string): string | null {
  if (v === undefined) return presetForEnv(env);
  if (v === 'none') return null;
  if (!(v in PRESETS)) throw new UsageError(`--preset: '${v}' is not a preset; use one of ${Object.keys(PRESETS).join(', ')}, none`);
  return v;
}

function parseTarget(v: string | undefined, env: string): number | null {
  if (v === undefined) return targetForEnv(env);
  if (v === 'none') return null;
  return requireFinite('target-return', v);
}

/** A positive integer flag of the sweep, checked by its row (deploy/commandFields.ts). */
function positiveInt(flag: string, v: unknown): number {
  return checkCommandFlag('sweep', flag, v) as number;
}
