/**
 * The field table of the commands beside train / learner / actor (whose table is
 * deploy/schema.ts): `sweep`, `eval`, `export`, `analyze`, `compare`, and the benchmarks
 * (`npm run bench -- <name>`, rows in bench/benchFields.ts on this row type). One row per
 * option: its flag, type, default, accepted range, help text, group and where the default
 * comes from. The rows drive the yargs options and help (`commandOptions`), the check of a
 * value (`parseCommandField`: one message form, `--flag: 'value' is not ...`) and the README's
 * per-command flag table (`commandFlagTableMarkdown`, written by deploy/flagTable.ts).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Options, PositionalOptions } from 'yargs';
import { DEFAULT_BOOTSTRAP } from '../analysis/robust.js';
import { UsageError } from './errors.js';
import { PRESETS } from './presets.js';
import { DEFAULT_SWEEP_METHODS } from './sweepGrid.js';

/**
 * How a value is typed: a finite number, an integer, a boolean, one of `choices`, a free string,
 * a repeatable string (`--vary A --vary B`), or a positional argument (`<target>`, `<runDirs..>`).
 */
export type CommandKind = 'number' | 'integer' | 'boolean' | 'choice' | 'string' | 'repeatable' | 'positional' | 'positional-list';

export interface CommandFieldRow {
  /** The command (`sweep`) or benchmark (`bench learning`) the option belongs to. */
  command: string;
  /** Long flag name, or the positional's name. */
  flag: string;
  kind: CommandKind;
  choices?: readonly string[];
  /** Accepted range of a numeric option: the test, and how the refusal and README state it. */
  range?: { ok: (x: number) => boolean; text: string };
  /** What is accepted, when the kind and range do not say it (e.g. `none` besides numbers). */
  accepted?: string;
  /** The default (typed); undefined: none, or computed when the option is absent (`derived`). */
  default?: unknown;
  /** How the default is computed when the option is not given (shown instead of `default`). */
  derived?: string;
  help: string;
  group: string;
  /** Where the default comes from. */
  source: string;
  /** Must be given. */
  demand?: boolean;
  /** Not in --help or the README (test hooks). */
  hidden?: boolean;
}

const atLeast1 = { ok: (x: number) => x >= 1, text: '>= 1' };
const nonNeg = { ok: (x: number) => x >= 0, text: '>= 0' };
const bootstrapRange = { ok: (x: number) => x >= 100 && x <= 1_000_000, text: 'from 100 to 1000000' };
const RUN_TARGET = 'run directory or checkpoint file (<run>/checkpoints/ckpt-*.bin)';
const ENV_THRESHOLD = "the env's: CartPole-v1 475, Acrobot-v1 -100, seq-* 0.9, ...; none for user envs";

/** The command rows, in help and README order per command. */
export const COMMAND_FIELDS: readonly CommandFieldRow[] = [
  // sweep
  {
    command: 'sweep',
    flag: 'methods',
    kind: 'string',
    default: DEFAULT_SWEEP_METHODS,
    help: "methods, options after ':' (e.g. ppo,v5,v5:floor=neg-is)",
    group: 'grid',
    source: 'every method, and v5 with the neg-is floor',
  },
  {
    command: 'sweep',
    flag: 'lags',
    kind: 'string',
    default: '0,4,16,64',
    help: 'fixed lags in versions (0 = none)',
    group: 'grid',
    source: 'project choice: no lag to 64 versions, in factors of 4',
  },
  {
    command: 'sweep',
    flag: 'seeds',
    kind: 'integer',
    default: 3,
    range: atLeast1,
    help: 'seeds per cell (0..seeds-1)',
    group: 'grid',
    source: 'project choice',
  },
  {
    command: 'sweep',
    flag: 'vary',
    kind: 'repeatable',
    help: 'FLAG=V1,V2,...: sweep a training flag as another grid axis (repeatable; cells are the product), e.g. --vary tau-h=1,1.5,2 --vary gamma-base=0.1,0.3; values are checked before any cell starts',
    group: 'grid',
    source: 'none',
  },
  {
    command: 'sweep',
    flag: 'env',
    kind: 'string',
    derived: "the --preset's env, else CartPole-v1",
    help: 'environment id',
    group: 'runs',
    source: 'project choice',
  },
  {
    command: 'sweep',
    flag: 'steps',
    kind: 'integer',
    range: atLeast1,
    derived: "the --preset's steps, else 60000",
    help: 'env steps per run (60k on CartPole: measured large enough for lag-0 ppo and v5 --floor neg-is to reach a confirmed 475)',
    group: 'runs',
    source: 'measured on CartPole (the help says what)',
  },
  {
    command: 'sweep',
    flag: 'preset',
    kind: 'string',
    accepted: `one of ${Object.keys(PRESETS).join(', ')}, none`,
    derived: 'by env: cartpole on CartPole-v1, acrobot on Acrobot-v1, else none',
    help: `train preset for every run (${Object.keys(PRESETS).join(', ')}, or none)`,
    group: 'runs',
    source: 'deploy/presets.ts',
  },
  {
    command: 'sweep',
    flag: 'target-return',
    kind: 'string',
    accepted: 'a finite number, or none',
    derived: '475 on CartPole-v1, else none',
    help: "train --target-return for every run: a solved run stops early ('none' disables)",
    group: 'runs',
    source: 'Gymnasium CartPole-v1: solved = mean 475',
  },
  {
    command: 'sweep',
    flag: 'config',
    kind: 'string',
    help: "train settings for every run from a YAML or JSON file keyed by long flag names; the sweep's own flags (env, steps, preset, target-return, method, lag, seed) override it",
    group: 'runs',
    source: 'none',
  },
  {
    command: 'sweep',
    flag: 'env-module',
    kind: 'string',
    help: 'environment module for every run (a .mjs / .js file; see --env-module of train); stored absolute in each config.json',
    group: 'runs',
    source: 'none',
  },
  {
    command: 'sweep',
    flag: 'extra',
    kind: 'string',
    default: '',
    help: "extra flags for every train run, quoted: --extra '--lr 0.001'",
    group: 'runs',
    source: 'none',
  },
  {
    command: 'sweep',
    flag: 'parallel',
    kind: 'integer',
    range: atLeast1,
    default: availableParallelism(),
    derived: 'the number of cores',
    help: 'cells run at once (each is one learner and its actors)',
    group: 'runs',
    source: 'os.availableParallelism()',
  },
  {
    command: 'sweep',
    flag: 'out',
    kind: 'string',
    derived: 'runs/sweep-<env>-<timestamp>',
    help: 'sweep directory',
    group: 'output',
    source: 'runs/',
  },
  {
    command: 'sweep',
    flag: 'threshold',
    kind: 'number',
    derived: "the target return, else the env's: Acrobot-v1 -100, seq-* 0.9, ...; none for user envs",
    help: 'return counted as solved in the comparison',
    group: 'output',
    source: 'analysis/thresholds.ts',
  },
  {
    command: 'sweep',
    flag: 'progress-every',
    kind: 'number',
    derived: '1 on a terminal, else 10',
    range: nonNeg,
    help: "seconds between progress lines from the start (percentage of the training steps of the cells to run, elapsed, ETA, each running cell's steps; on a terminal one line redrawn); 0: only a line per cell started and finished",
    group: 'output',
    source: 'project choice: a line every 10 s in a log, live on a terminal',
  },
  {
    command: 'sweep',
    flag: 'cli',
    kind: 'string',
    help: 'the CLI script that runs train (tests)',
    group: 'output',
    source: 'this CLI',
    hidden: true,
  },
  // eval
  { command: 'eval', flag: 'target', kind: 'positional', help: RUN_TARGET, group: 'input', source: 'none' },
  {
    command: 'eval',
    flag: 'episodes',
    kind: 'integer',
    range: atLeast1,
    default: 100,
    help: 'complete episodes to run',
    group: 'evaluation',
    source: 'Gymnasium CartPole-v1: solved = mean 475 over 100 episodes',
  },
  {
    command: 'eval',
    flag: 'greedy',
    kind: 'boolean',
    default: false,
    help: 'act by argmax instead of sampling',
    group: 'evaluation',
    source: 'sampling, as the actors act',
  },
  {
    command: 'eval',
    flag: 'seed',
    kind: 'integer',
    range: nonNeg,
    derived: "the run's seed",
    help: 'seed of the env resets and action sampling',
    group: 'evaluation',
    source: "the run's config.json",
  },
  {
    command: 'eval',
    flag: 'env-timeout',
    kind: 'number',
    range: { ok: (x: number) => x > 0 && x <= 86_400, text: 'in (0, 86400]' },
    derived: "the run's --env-timeout",
    help: "seconds an environment's reset() or step() may run before the evaluation is stopped with a message naming the env, the call and the time",
    group: 'evaluation',
    source: "the run's config.json (default 60)",
  },
  {
    command: 'eval',
    flag: 'json',
    kind: 'boolean',
    default: false,
    help: 'print {episodes, mean, std, greedy, version} as JSON',
    group: 'output',
    source: 'text',
  },
  // export
  { command: 'export', flag: 'target', kind: 'positional', help: RUN_TARGET, group: 'input', source: 'none' },
  {
    command: 'export',
    flag: 'format',
    kind: 'choice',
    choices: ['tfjs'],
    default: 'tfjs',
    help: 'output format: tfjs (layers model: model.json + weights.bin)',
    group: 'output',
    source: 'the only format (no maintained ONNX writer in JavaScript)',
  },
  {
    command: 'export',
    flag: 'out',
    kind: 'string',
    demand: true,
    help: 'output directory (created; must be empty if it exists)',
    group: 'output',
    source: 'none: required',
  },
  // analyze
  {
    command: 'analyze',
    flag: 'runDir',
    kind: 'positional',
    demand: true,
    help: 'run directory (runs/<id>) holding learner.ndjson',
    group: 'input',
    source: 'none',
  },
  {
    command: 'analyze',
    flag: 'json',
    kind: 'boolean',
    default: false,
    help: 'print the figures as JSON',
    group: 'output',
    source: 'text tables',
  },
  {
    command: 'analyze',
    flag: 'threshold',
    kind: 'number',
    derived: ENV_THRESHOLD,
    help: 'return counted as solved (steps to threshold)',
    group: 'output',
    source: 'analysis/thresholds.ts',
  },
  // compare
  {
    command: 'compare',
    flag: 'runDirs',
    kind: 'positional-list',
    demand: true,
    help: 'run directories, or directories of runs (a sweep)',
    group: 'input',
    source: 'none',
  },
  {
    command: 'compare',
    flag: 'out',
    kind: 'string',
    derived: "the sweep dir or the runs' parent",
    help: 'directory for report.html and charts/',
    group: 'output',
    source: 'next to the runs',
  },
  {
    command: 'compare',
    flag: 'json',
    kind: 'boolean',
    default: false,
    help: 'print the figures as JSON',
    group: 'output',
    source: 'text tables',
  },
  {
    command: 'compare',
    flag: 'threshold',
    kind: 'number',
    derived: "the runs' env's: CartPole-v1 475, Acrobot-v1 -100, seq-* 0.9, ...; per env when they differ; none for user envs",
    help: 'return counted as solved',
    group: 'statistics',
    source: 'analysis/thresholds.ts',
  },
  {
    command: 'compare',
    flag: 'bootstrap',
    kind: 'integer',
    range: bootstrapRange,
    accepted: 'a whole number of resamples from 100 to 1000000; e.g. --bootstrap 2000',
    default: DEFAULT_BOOTSTRAP,
    help: 'bootstrap resamples for the IQM / mean / P(improvement) CIs (seeded: reports are reproducible)',
    group: 'statistics',
    source: 'project choice (analysis/robust.ts)',
  },
  // npm run bench -- learning
  ...benchRows('bench learning', [
    {
      flag: 'methods',
      kind: 'string',
      default: 'ppo,v5,v5:floor=neg-is',
      help: 'methods as sweep --methods takes them',
      source: 'ppo, the draft v5 and v5 --floor neg-is',
    },
    {
      flag: 'lags',
      kind: 'string',
      default: '0',
      help: 'fixed lags in versions (0 = none)',
      source: 'the lag-0 figures the README reports',
    },
    { flag: 'seeds', kind: 'integer', range: atLeast1, default: 1, help: 'seeds per cell', source: 'project choice: one pass' },
    {
      flag: 'steps',
      kind: 'integer',
      range: atLeast1,
      default: 100_000,
      help: 'env steps per run',
      source: 'RL Baselines Zoo ppo.yml CartPole-v1 n_timesteps',
    },
    {
      flag: 'parallel',
      kind: 'integer',
      range: atLeast1,
      default: 1,
      help: 'cells run at once',
      source: 'one at a time: timings stay comparable',
    },
    {
      flag: 'env',
      kind: 'choice',
      choices: ['CartPole-v1', 'Acrobot-v1'],
      default: 'CartPole-v1',
      help: 'environment (its preset and threshold)',
      source: 'project choice',
    },
    { flag: 'acrobot', kind: 'boolean', default: false, help: 'shorthand for --env Acrobot-v1', source: 'none' },
    {
      flag: 'threshold',
      kind: 'number',
      derived: "the env's: CartPole-v1 475, Acrobot-v1 -100",
      help: 'return counted as solved',
      source: 'analysis/thresholds.ts',
    },
    {
      flag: 'out',
      kind: 'string',
      derived: 'bench/results/learning-<time>',
      help: 'directory of the runs (finished cells are reused)',
      source: 'bench/results/',
    },
    {
      flag: 'extra',
      kind: 'string',
      default: '',
      help: 'extra flags for every train run, e.g. --extra "--target-return -100"',
      source: 'none',
    },
  ]),
  // npm run bench -- sequence
  ...benchRows('bench sequence', [
    {
      flag: 'methods',
      kind: 'string',
      derived: "sweep's default methods, sft-reward after sft",
      help: 'methods as sweep --methods takes them, plus sft-reward (sft with --advantage reward)',
      source: 'every method',
    },
    {
      flag: 'shares',
      kind: 'string',
      default: '0,0.25,0.5,1',
      accepted: 'comma-separated numbers in [0, 1]',
      help: 'teacher shares (--behaviour mix:P)',
      source: 'issue 15: no teacher to all teacher',
    },
    { flag: 'lags', kind: 'string', default: '0,16', help: 'fixed lags in versions', source: 'project choice: none and a large lag' },
    { flag: 'seeds', kind: 'integer', range: atLeast1, derived: '3; --quick: 2', help: 'seeds per cell', source: 'project choice' },
    {
      flag: 'steps',
      kind: 'integer',
      range: atLeast1,
      derived: '200000; --quick: 50000',
      help: 'env steps (tokens) per run',
      source: 'project choice',
    },
    {
      flag: 'parallel',
      kind: 'integer',
      range: atLeast1,
      default: 1,
      help: 'cells run at once',
      source: 'one at a time: timings stay comparable',
    },
    {
      flag: 'env',
      kind: 'string',
      default: 'seq-reverse',
      accepted: 'a sequence task (seq-reverse, seq-sort, seq-add)',
      help: 'sequence task',
      source: 'preset seq',
    },
    {
      flag: 'out',
      kind: 'string',
      derived: 'bench/results/sequence-<time>',
      help: 'directory of the runs (finished cells are reused)',
      source: 'bench/results/',
    },
    { flag: 'quick', kind: 'boolean', default: false, help: 'fewer seeds and steps (2 x 50000)', source: 'none' },
  ]),
  // npm run bench -- pendulum
  ...benchRows('bench pendulum', [
    { flag: 'seeds', kind: 'integer', range: atLeast1, default: 3, help: 'seeds per method', source: "the issue's bar: 2 of 3 seeds" },
    {
      flag: 'steps',
      kind: 'integer',
      range: atLeast1,
      default: 300_000,
      help: 'env steps per run',
      source: 'the issue: within 300k steps',
    },
    { flag: 'parallel', kind: 'integer', range: atLeast1, default: 2, help: 'runs at once', source: 'project choice (2 cores)' },
    { flag: 'bar', kind: 'number', default: -400, help: 'final return a seed must reach', source: 'the issue: >= -400' },
    {
      flag: 'target-return',
      kind: 'number',
      help: 'train --target-return for every run (default: none, run the whole budget)',
      source: 'none',
    },
    {
      flag: 'out',
      kind: 'string',
      derived: 'bench/results/pendulum-<time>',
      help: 'directory of the runs (finished runs are reused)',
      source: 'bench/results/',
    },
  ]),
  // npm run bench -- scaling
  ...benchRows('bench scaling', [
    {
      flag: 'max-threads',
      kind: 'integer',
      range: atLeast1,
      default: availableParallelism(),
      derived: 'the number of cores',
      help: 'largest thread count measured',
      source: 'os.availableParallelism()',
    },
    { flag: 'ms', kind: 'integer', range: atLeast1, default: 3000, help: 'measuring time per point, ms', source: 'project choice' },
    {
      flag: 'e2e-steps',
      kind: 'integer',
      range: atLeast1,
      default: 150_000,
      help: 'env steps of each end-to-end run',
      source: 'project choice',
    },
    {
      flag: 'learner-only',
      kind: 'boolean',
      default: false,
      help: 'only the learner-only curves, the [256, 256] row and the prediction',
      source: 'none',
    },
    { flag: 'json', kind: 'boolean', default: false, help: 'tables to stderr, one JSON summary on stdout', source: 'none' },
  ]),
];

/** A benchmark's rows: the command name and group filled in. */
function benchRows(command: string, rows: Omit<CommandFieldRow, 'command' | 'group'>[]): CommandFieldRow[] {
  return rows.map((r) => ({ ...r, command, group: 'benchmark' }));
}

function show(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** What a row accepts, as its refusal and the README state it. */
export function acceptedOf(r: CommandFieldRow): string {
  if (r.accepted) return r.accepted;
  switch (r.kind) {
    case 'integer':
      return r.range === atLeast1 ? 'a positive integer' : `an integer ${r.range?.text ?? ''}`.trim();
    case 'number':
      return `a finite number ${r.range?.text ?? ''}`.trim();
    case 'boolean':
      return 'true or false';
    case 'choice':
      return r.choices!.length === 1 ? r.choices![0]! : `one of ${r.choices!.join(', ')}`;
    case 'repeatable':
      return 'a string, repeatable';
    case 'positional-list':
      return 'one or more paths';
    default:
      return 'a string';
  }
}

function refuse(r: CommandFieldRow, raw: unknown): UsageError {
  // A choice is "not accepted; expected X" (as the training flags); a number "not a finite number" etc.
  const what = r.kind === 'choice' ? `accepted; expected ${acceptedOf(r)}` : acceptedOf(r);
  return new UsageError(`--${r.flag}: '${show(raw)}' is not ${what}`);
}

/**
 * A raw value (yargs output or a benchmark's string) as the row's typed value, checked against
 * its kind and range; undefined stays undefined (the caller's default then). Throws a
 * UsageError `--flag: 'value' is not <accepted>`.
 */
export function parseCommandField(r: CommandFieldRow, raw: unknown): unknown {
  if (raw === undefined) return undefined;
  switch (r.kind) {
    case 'integer':
    case 'number': {
      const x = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(x) || (r.kind === 'integer' && !Number.isInteger(x)) || (r.range && !r.range.ok(x))) throw refuse(r, raw);
      return x;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw refuse(r, raw);
    case 'choice':
      if (typeof raw !== 'string' || !r.choices!.includes(raw)) throw refuse(r, raw);
      return raw;
    default:
      return raw;
  }
}

/** The rows of one command (hidden ones included), in table order. */
export function commandRows(command: string): CommandFieldRow[] {
  const rows = COMMAND_FIELDS.filter((r) => r.command === command);
  if (rows.length === 0) throw new Error(`no field rows for command '${command}'`);
  return rows;
}

/** The row of `command`'s `flag`; throws when there is none (a programming error). */
export function commandRow(command: string, flag: string): CommandFieldRow {
  const r = COMMAND_FIELDS.find((x) => x.command === command && x.flag === flag);
  if (!r) throw new Error(`no field row for ${command} --${flag}`);
  return r;
}

/** Check `raw` against the row of `command`'s `flag` (see parseCommandField). */
export function checkCommandFlag(command: string, flag: string, raw: unknown): unknown {
  return parseCommandField(commandRow(command, flag), raw);
}

/** The default column of --help and the README: the derived rule, the value, or none. */
export function commandDefaultText(r: CommandFieldRow): string {
  if (r.derived) return r.derived;
  if (r.default === undefined) return r.demand ? 'required' : 'none';
  return r.default === '' ? "''" : show(r.default);
}

/**
 * The yargs option of a row. Numbers stay yargs numbers and are checked by the handler with
 * `parseCommandField` (no yargs `choices`: a bad value is refused in one line naming the flag).
 */
export function commandOption(r: CommandFieldRow): Options {
  const o: Options = { describe: r.help, group: `${r.group[0]!.toUpperCase()}${r.group.slice(1)}:` };
  if (r.default !== undefined) o.default = r.default;
  if (r.derived) o.defaultDescription = r.derived;
  if (r.demand) o.demandOption = true;
  if (r.hidden) o.hidden = true;
  switch (r.kind) {
    case 'integer':
    case 'number':
      return { ...o, type: 'number' };
    case 'boolean':
      return { ...o, type: 'boolean' };
    case 'repeatable':
      return { ...o, type: 'string', array: true, nargs: 1 };
    default:
      return { ...o, type: 'string', nargs: 1 };
  }
}

/** A positional row as yargs takes it. */
export function commandPositional(r: CommandFieldRow): PositionalOptions {
  return {
    type: 'string',
    describe: r.help,
    ...(r.kind === 'positional-list' ? { array: true } : {}),
    ...(r.demand ? { demandOption: true } : {}),
  };
}

/** The yargs options (not the positionals) of `command`, keyed by flag. */
export function commandOptions(command: string): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const r of commandRows(command)) if (r.kind !== 'positional' && r.kind !== 'positional-list') out[r.flag] = commandOption(r);
  return out;
}

/** Every flag of these rows, for the CLI's did-you-mean. */
export function commandFlagNames(rows: readonly CommandFieldRow[] = COMMAND_FIELDS): string[] {
  return [...new Set(rows.filter((r) => !r.hidden && !r.kind.startsWith('positional')).map((r) => r.flag))];
}

/**
 * The README's per-command table, from `rows` (default: every command's): one line per
 * option, positionals as `<name>`, hidden rows left out.
 */
export function commandFlagTableMarkdown(rows: readonly CommandFieldRow[] = COMMAND_FIELDS): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| command | flag | default | accepted | meaning | default from |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    if (r.hidden) continue;
    const name = r.kind.startsWith('positional') ? `<${r.flag}${r.kind === 'positional-list' ? '..' : ''}>` : `--${r.flag}`;
    lines.push(
      `| ${r.command} | \`${name}\` | ${esc(commandDefaultText(r))} | ${esc(acceptedOf(r))} | ${esc(r.help)} | ${esc(r.source)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * A benchmark's flags (argv after its name, `bench` e.g. 'bench learning'), parsed strictly from
 * its rows: an unknown or malformed flag is a UsageError naming the benchmark and listing its
 * flags; each value is checked by its row and absent ones get the row's default (undefined when
 * the default is computed: `derived`). Keyed by flag.
 */
export function parseBenchArgs(bench: string, argv: string[]): Record<string, unknown> {
  const rows = commandRows(bench);
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const r of rows) options[r.flag] = { type: r.kind === 'boolean' ? 'boolean' : 'string' };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, allowPositionals: false, strict: true, options }).values;
  } catch (e) {
    const flags = rows.map((r) => `--${r.flag}`).join(' ');
    throw new UsageError(`${bench.replace(/^bench /, '')}: ${e instanceof Error ? e.message : String(e)}; flags: ${flags}`);
  }
  const out: Record<string, unknown> = {};
  for (const r of rows) out[r.flag] = values[r.flag] === undefined ? r.default : parseCommandField(r, values[r.flag]);
  return out;
}
