/**
 * The sweep grid: parse `--methods`, `--lags`, `--seeds` into cells, each with its run
 * directory name and the exact `train` arguments (pure; errors are UsageErrors naming the
 * flag), and the one grid runner (`runGrid`) that `isreshape sweep` and the learning bench use:
 * each cell a `train` child process, at most P at once, finished cells reused.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { readNdjsonLog } from '../analysis/read.js';
import { logExists } from '../protocol/logFiles.js';
import { DEFAULT_OBJECTIVE, METHODS, type MethodName } from '../protocol/objectiveConfig.js';
import { parseNumberList, UsageError } from './errors.js';
import { FIELD_BY_FLAG, FIELDS, formatField, parseField } from './schema.js';

/** One entry of --methods: 'v5' or 'v5:floor=neg-is' (more options separated by ':'). */
export interface MethodSpec {
  method: MethodName;
  /** [flag name as written, value], passed to train as `--flag value`. */
  options: [string, string][];
  /** Label as config.json spells it: 'v5 floor=neg-is'. */
  label: string;
  /** File-name safe label: 'v5-floor-neg-is'. */
  slug: string;
}

/** One `--vary FLAG=V1,V2,...` axis: a training flag and its values, as train is given them. */
export interface VaryAxis {
  flag: string;
  /** Validated with the flag's schema row, normalised (`1.0` -> `1`). */
  values: string[];
}

/** One varied flag's value in one cell. */
export interface VaryValue {
  flag: string;
  value: string;
}

export interface SweepCell {
  spec: MethodSpec;
  lag: number;
  seed: number;
  /** This cell's value of every --vary axis, in the order given. */
  vary: VaryValue[];
  /** `<label slug>[_<flag>-<value>...]_lag<K>_seed<S>`. */
  name: string;
  runDir: string;
  /** Arguments after `train`. */
  args: string[];
}

const OBJECTIVE_KEYS = new Set(Object.keys(DEFAULT_OBJECTIVE));

/** The default sweep --methods: every method, plus v5 with the neg-is floor right after v5. */
export const DEFAULT_SWEEP_METHODS: string = METHODS.flatMap((m) => (m === 'v5' ? ['v5', 'v5:floor=neg-is'] : [m])).join(',');

/** The default sweep --out: `runs/sweep-<env>-<YYYYMMDDTHHMMSS>` (UTC). */
export function defaultSweepOut(env: string, now = new Date()): string {
  return join('runs', `sweep-${env}-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
}

/** Parse --methods; throws a UsageError naming an unknown method or option. */
export function parseMethods(value: unknown): MethodSpec[] {
  const s = value === undefined || value === true ? '' : String(value).trim();
  if (s === '') throw new UsageError(`--methods: missing; expected e.g. --methods ppo,v5,v5:floor=neg-is (methods: ${METHODS.join(', ')})`);
  return s.split(',').map((entry) => {
    const [name, ...opts] = entry.trim().split(':');
    if (!(METHODS as readonly string[]).includes(name ?? '')) {
      throw new UsageError(`--methods: unknown method '${name}' in '${s}'; expected one of ${METHODS.join(', ')}`);
    }
    const options = opts.map((o): [string, string] => {
      const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(o);
      const camel = m ? m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) : '';
      if (!m || !OBJECTIVE_KEYS.has(camel) || camel === 'method') {
        throw new UsageError(
          `--methods: bad option '${o}' in '${entry}'; expected key=value with key an objective field, e.g. v5:floor=neg-is`,
        );
      }
      return [m[1]!, m[2]!];
    });
    const label = [name!, ...options.map(([k, v]) => `${k}=${v}`)].join(' ');
    return { method: name as MethodName, options, label, slug: label.replace(/[^A-Za-z0-9.]+/g, '-') };
  });
}

/** Parse --lags: non-negative integers (0 = no lag). */
export function parseLags(value: unknown): number[] {
  const lags = parseNumberList('lags', value);
  for (const k of lags) {
    if (!Number.isInteger(k) || k < 0) throw new UsageError(`--lags: '${k}' is not a non-negative integer; e.g. --lags 0,4,16,64`);
  }
  return lags;
}

/** The train --lag value for a lag of K versions: 'none' for 0, else 'fixed:K'. */
export function lagFlag(k: number): string {
  return k === 0 ? 'none' : `fixed:${k}`;
}

/**
 * Flags a sweep sets itself (its own --methods, --lags, --seeds, --env, --steps, --preset,
 * --target-return, and each cell's run directory): not sweepable with --vary.
 */
const SWEEP_OWNS: ReadonlyMap<string, string> = new Map([
  ['method', "use --methods (options after ':', e.g. v5:floor=neg-is)"],
  ['lag', 'use --lags'],
  ['seed', 'use --seeds'],
  ['env', 'use --env'],
  ['steps', 'use --steps'],
  ['preset', 'use --preset'],
  ['target-return', 'use --target-return'],
  ['run-dir', 'each cell has its own run directory'],
  ['run-id', 'each cell has its own run id'],
]);

/**
 * Parse the repeatable `--vary FLAG=V1,V2,...` into axes. FLAG is any training flag (a row
 * of the field table) the sweep does not set itself; every value is checked with the row's
 * parser now, before any cell starts. Values of a list flag (--hidden) are separated by '/'
 * (`hidden=64,64/32,32`), since ',' is part of the value. Throws a UsageError naming the
 * flag and the value.
 */
export function parseVary(value: unknown): VaryAxis[] {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const axes: VaryAxis[] = [];
  for (const item of items) {
    const s = typeof item === 'string' ? item.trim() : '';
    const m = /^([A-Za-z][\w-]*)=(.*)$/.exec(s);
    if (!m) throw new UsageError(`--vary: '${String(item)}' is not FLAG=V1,V2,...; e.g. --vary tau-h=1,1.5,2`);
    const flag = m[1]!.replace(/^-+/, '');
    const row = FIELD_BY_FLAG.get(flag);
    if (!row)
      throw new UsageError(
        `--vary: unknown training flag '${flag}'; expected a training flag (isreshape train --help), e.g. tau-h, tau-c, gamma-base, gamma-max, lr`,
      );
    const owned = SWEEP_OWNS.get(flag);
    if (owned) throw new UsageError(`--vary: ${flag} cannot be varied: ${owned}`);
    if (axes.some((a) => a.flag === flag))
      throw new UsageError(`--vary: ${flag} given twice; give all its values at once, e.g. --vary ${flag}=V1,V2`);
    const raw = m[2]!.split(row.kind === 'int-list' ? '/' : ',').map((v) => v.trim());
    if (raw.some((v) => v === '')) throw new UsageError(`--vary: ${flag}: empty value in '${m[2]}'; e.g. --vary ${flag}=V1,V2`);
    const values = raw.map((v) => {
      try {
        return formatField(row, parseField(row, v));
      } catch (err) {
        if (err instanceof UsageError) throw new UsageError(`--vary: ${err.message}`);
        throw err;
      }
    });
    const dup = values.find((v, i) => values.indexOf(v) !== i);
    if (dup !== undefined) throw new UsageError(`--vary: ${flag}: value '${dup}' given twice`);
    axes.push({ flag, values });
  }
  return axes;
}

/**
 * Refuse a --vary flag that a --methods option or an --extra word also sets (train would be
 * given it twice).
 */
export function checkVaryClashes(axes: readonly VaryAxis[], methods: readonly MethodSpec[], extra: readonly string[]): void {
  for (const a of axes) {
    const m = methods.find((s) => s.options.some(([k]) => k === a.flag));
    if (m) throw new UsageError(`--vary: ${a.flag} is also set by --methods '${m.label}'; set it in one place`);
    if (extra.some((w) => w === `--${a.flag}` || w.startsWith(`--${a.flag}=`) || w === `--no-${a.flag}`)) {
      throw new UsageError(`--vary: ${a.flag} is also set in --extra; set it in one place`);
    }
  }
}

/** The train arguments that set one varied flag: `--flag value`, or `--flag` / `--no-flag` for a boolean. */
function varyArgs(v: VaryValue): string[] {
  const row = FIELD_BY_FLAG.get(v.flag)!;
  if (row.kind === 'boolean') return [v.value === 'true' ? `--${v.flag}` : `--no-${v.flag}`];
  return [`--${v.flag}`, v.value];
}

/** Every combination of the axes' values (one empty combination for no axes), first axis slowest. */
function varyCombos(axes: readonly VaryAxis[]): VaryValue[][] {
  let combos: VaryValue[][] = [[]];
  for (const a of axes) combos = combos.flatMap((c) => a.values.map((value) => [...c, { flag: a.flag, value }]));
  return combos;
}

/** The sweepable flags (for help text): every training flag the sweep does not set itself. */
export const VARY_FLAGS: readonly string[] = FIELDS.map((r) => r.flag).filter((f) => !SWEEP_OWNS.has(f));

export interface GridInput {
  methods: MethodSpec[];
  lags: number[];
  seeds: number;
  env: string;
  steps: number;
  out: string;
  /** Extra train flags, already split into words. */
  extra: string[];
  /** `--preset` for every run; null: none. */
  preset?: string | null;
  /** `--target-return` for every run; null: none. */
  targetReturn?: number | null;
  /** `--config FILE` for every run (its flags override the file); undefined: none. */
  config?: string;
  /** Further grid axes (--vary); default none. */
  vary?: readonly VaryAxis[];
}

/** The train preset matching an env: cartpole for CartPole-v1, acrobot for Acrobot-v1, else null. */
export function presetForEnv(env: string): string | null {
  return env === 'CartPole-v1' ? 'cartpole' : env === 'Acrobot-v1' ? 'acrobot' : null;
}

/** The default sweep --target-return: 475 (solved) for CartPole-v1, else null. */
export function targetForEnv(env: string): number | null {
  return env === 'CartPole-v1' ? 475 : null;
}

/** The file-name part of a cell's varied values: `_tau-h-1.5_floor-neg-is` ('' for none). */
export function varySlug(vary: readonly VaryValue[]): string {
  return vary.map((v) => `_${`${v.flag}-${v.value}`.replace(/[^A-Za-z0-9.]+/g, '-')}`).join('');
}

/** Every (method, varied values, lag, seed) cell, seeds 0..seeds-1, in method-major order. */
export function sweepCells(g: GridInput): SweepCell[] {
  const cells: SweepCell[] = [];
  for (const spec of g.methods) {
    for (const vary of varyCombos(g.vary ?? [])) {
      for (const lag of g.lags) {
        for (let seed = 0; seed < g.seeds; seed++) {
          const name = `${spec.slug}${varySlug(vary)}_lag${lag}_seed${seed}`;
          const runDir = join(g.out, name);
          const args = [
            ...(g.config ? ['--config', g.config] : []),
            ...(g.preset ? ['--preset', g.preset] : []),
            '--env',
            g.env,
            '--method',
            spec.method,
          ];
          for (const [k, v] of spec.options) args.push(`--${k}`, v);
          for (const v of vary) args.push(...varyArgs(v));
          args.push('--lag', lagFlag(lag), '--seed', String(seed), '--steps', String(g.steps));
          if (g.targetReturn !== undefined && g.targetReturn !== null) args.push('--target-return', String(g.targetReturn));
          args.push('--run-dir', runDir, '--quiet', ...g.extra);
          cells.push({ spec, lag, seed, vary, name, runDir, args });
        }
      }
    }
  }
  return cells;
}

/** Split --extra into words, honouring single and double quotes. */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** True when `runDir/learner.ndjson` (with its rotated segments) holds a summary record (the cell finished). */
export async function cellDone(runDir: string): Promise<boolean> {
  const path = join(runDir, 'learner.ndjson');
  if (!logExists(path)) return false;
  let done = false;
  await readNdjsonLog(path, (r) => {
    if (r.kind === 'summary') done = true;
  });
  return done;
}

/** Bytes read from the end of a running cell's learner.ndjson to find its newest update record. */
const TAIL_BYTES = 256 * 1024;

/**
 * The training steps of the newest update record in `runDir/learner.ndjson` (0 when there is
 * none yet, or the log was just rotated): read from the file's last TAIL_BYTES, so a sweep can
 * poll its running cells every second whatever their logs' size.
 */
export async function latestEnvSteps(runDir: string): Promise<number> {
  let fh;
  try {
    fh = await open(join(runDir, 'learner.ndjson'), 'r');
  } catch {
    return 0;
  }
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i]!;
      if (!l.includes('"kind":"update"')) continue;
      try {
        const r = JSON.parse(l) as { kind?: unknown; envSteps?: unknown };
        if (r.kind === 'update' && typeof r.envSteps === 'number') return r.envSteps;
      } catch {
        // the first line of the tail may be cut, the last one half written
      }
    }
    return 0;
  } finally {
    await fh.close();
  }
}

/** What running (or reusing) one cell gave. */
export interface CellResult {
  cell: SweepCell;
  /** Exit code of `train` (0 for a reused cell). */
  code: number;
  /** The cell had finished before (its run dir holds a summary): not run again. */
  reused: boolean;
  ms: number;
  /** The cell's stdout + stderr. */
  log: string;
}

export interface GridRunOptions {
  /** The CLI script to spawn `train` with. */
  cli: string;
  /** Where each cell's log goes (`<logDir>/<cell>.log`). */
  logDir: string;
  /** Cells run at once. */
  parallel: number;
  /** Called when a cell starts to run (not for a cell found done). */
  onStart?: (cell: SweepCell) => void;
  /** Called after every cell, in completion order (awaited). */
  onCell?: (r: CellResult) => void | Promise<void>;
  /** Runs one cell, resolving to its exit code (default: `train` as a child process of `cli`, output to `logFile`). Tests pass fakes. */
  runCell?: CellRunner;
}

/** Runs one cell (its run dir is new: a partial one was set aside), output to `logFile`; resolves to the exit code. */
export type CellRunner = (cell: SweepCell, logFile: string) => Promise<number>;

/**
 * A cell's run dir that exists without a summary (an interrupted or failed run) is moved to
 * `<out>/_partial/<cell>-<time>` so that the re-run starts a new directory (train refuses an
 * existing one) and no data is lost.
 */
async function setAsidePartial(cell: SweepCell): Promise<void> {
  if (!existsSync(cell.runDir)) return;
  const dir = join(cell.runDir, '..', '_partial');
  await mkdir(dir, { recursive: true });
  await rename(cell.runDir, join(dir, `${cell.name}-${new Date().toISOString().replace(/[-:.]/g, '')}`));
}

async function spawnTrain(cli: string, cell: SweepCell, logFile: string): Promise<number> {
  const log = await open(logFile, 'w');
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'train', ...cell.args], { stdio: ['ignore', log.fd, log.fd] });
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  } finally {
    await log.close();
  }
}

/** Run every cell not already done, at most `parallel` at once; finished cells are reported as reused. */
export async function runGrid(cells: readonly SweepCell[], o: GridRunOptions): Promise<CellResult[]> {
  await mkdir(o.logDir, { recursive: true });
  const results: CellResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const cell = cells[next++]!;
      const t0 = Date.now();
      const log = join(o.logDir, `${cell.name}.log`);
      const reused = await cellDone(cell.runDir);
      if (!reused) {
        await setAsidePartial(cell);
        o.onStart?.(cell);
      }
      const code = reused ? 0 : await (o.runCell ?? ((c, l) => spawnTrain(o.cli, c, l)))(cell, log);
      const r: CellResult = { cell, code, reused, ms: Date.now() - t0, log };
      results.push(r);
      await o.onCell?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, o.parallel), cells.length) }, worker));
  return results;
}
