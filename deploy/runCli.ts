/**
 * The `isreshape` command line as a function (`runCli`), behind the bin (deploy/cli.ts). One
 * yargs command module per verb in `deploy/commands/`. Bad input resolves to status 2 with one
 * line naming the flag and the value; anything else that fails, 1 with its message.
 *
 * Command modules are loaded lazily: when the first argument names a command, only that
 * module is imported (the learner's import of tfjs costs ~0.5 s of CPU, which every actor
 * and launcher process would otherwise pay). With no command, `--help` or an unknown word,
 * all of them are imported so the command list and yargs' strict errors are unchanged.
 */
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { UsageError } from './errors.js';
import { FIELDS } from './schema.js';
import { asEnvRuntimeError } from '../envs/check.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

/** Every command, in `--help` order, with a loader that imports only its own module. */
const COMMANDS: readonly { name: string; load: () => Promise<AnyCommand> }[] = [
  { name: 'train', load: async () => (await import('./commands/train.js')).trainCommand },
  { name: 'learner', load: async () => (await import('./commands/learner.js')).learnerCommand },
  { name: 'actor', load: async () => (await import('./commands/actor.js')).actorCommand },
  { name: 'weights', load: async () => (await import('./commands/weights.js')).weightsCommand },
  { name: 'analyze', load: async () => (await import('./commands/analyze.js')).analyzeCommand },
  { name: 'compare', load: async () => (await import('./commands/compare.js')).compareCommand },
  { name: 'export-tb', load: async () => (await import('./commands/exportTb.js')).exportTbCommand },
  { name: 'sweep', load: async () => (await import('./commands/sweep.js')).sweepCommand },
  { name: 'keys', load: async () => (await import('./commands/keys.js')).keysCommand },
  { name: 'eval', load: async () => (await import('./commands/eval.js')).evalCommand },
  { name: 'export', load: async () => (await import('./commands/export.js')).exportCommand },
  { name: 'sql', load: async () => (await import('./commands/sql.js')).sqlCommand },
  { name: 'export-parquet', load: async () => (await import('./commands/sql.js')).exportParquetCommand },
];

/** The command modules this invocation needs: none for a bare `--version`, the named one, or all. */
async function loadCommands(args: readonly string[]): Promise<AnyCommand[]> {
  if (args.length === 1 && args[0] === '--version') return [];
  const named = COMMANDS.find((c) => c.name === args[0]);
  if (named) return [await named.load()];
  return Promise.all(COMMANDS.map((c) => c.load()));
}

/**
 * Help text width. yargs renders the command's help text on every run (to cache it), and
 * wrapping it to a width costs ~40 ms of CPU per process; the text is shown only for `--help`
 * or `help` (our .fail() never prints usage), so other invocations skip the wrapping.
 */
function helpWidth(args: readonly string[], columns: number | undefined): number | null {
  const asksHelp = args.some((a) => a === 'help' || a.startsWith('--help'));
  return asksHelp ? Math.min(110, columns ?? 110) : null;
}

export interface CliIo {
  /** Where the one-line error goes (the bin: process.stderr). */
  stderr: NodeJS.WritableStream;
  /** Terminal width for --help (the bin: process.stdout.columns). */
  columns?: number;
  /** Let yargs exit the process after --help / --version (the bin: true; tests: false). */
  exitProcess?: boolean;
}

/**
 * Run the CLI on `args` (without node and the script). Resolves to the exit status: 0 when the
 * command finished (a handler may still set process.exitCode, as train does), 2 for bad input
 * (one line `isreshape: <message>` on io.stderr), 1 for any other failure (its stack).
 */
/**
 * `--extra '--lr 0.001'` (the value in its own word, starting with a dash) as `--extra=--lr 0.001`:
 * yargs would otherwise read the quoted words as a flag of their own.
 */
export function joinDashValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a === '--extra' && next !== undefined && next.startsWith('-')) {
      out.push(`--extra=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The closest of `known` to `word` within 2 edits (and under half its length), or null. */
export function closest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const dist = distance(word, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return bestD <= Math.min(2, Math.floor(word.length / 2)) ? best : null;
}

/**
 * Flags for did-you-mean beside the training flags (deploy/schema.ts) and the rows of
 * sweep, eval, export, analyze and compare (deploy/commandFields.ts).
 */
const OTHER_FLAGS = [
  'quiet',
  'config',
  'join',
  'resume',
  'tensorboard',
  'out',
  'json',
  'format',
  'connect',
  'bind',
  'actor-id',
  'name',
  'help',
  'version',
];

/** "Unknown argument: stpes" with "; did you mean --steps?" (or a command: "trian" -> train). */
async function withSuggestion(msg: string, args: readonly string[]): Promise<string> {
  const m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!m) return msg;
  const word = m[1]!.split(', ')[0]!;
  if (args[0] === word && !word.startsWith('-')) {
    const c = closest(
      word,
      COMMANDS.map((x) => x.name),
    );
    return c ? `${msg}; did you mean 'isreshape ${c}'? (isreshape --help lists the commands)` : msg;
  }
  // Loaded only here: the rows import the sweep grid, which no other command needs at start.
  const { COMMAND_FIELDS, commandFlagNames } = await import('./commandFields.js');
  const flags = [
    ...FIELDS.map((f) => f.flag),
    ...commandFlagNames(COMMAND_FIELDS.filter((r) => !r.command.startsWith('bench'))),
    ...OTHER_FLAGS,
  ];
  const c = closest(word.replace(/^-+/, ''), flags);
  return c ? `${msg}; did you mean --${c}?` : msg;
}

export async function runCli(argsIn: readonly string[], io: CliIo): Promise<number> {
  const args = joinDashValues(argsIn);
  try {
    let cli = yargs([...args])
      .scriptName('isreshape')
      .strict()
      .demandCommand(1, 'name a command: isreshape --help lists them')
      .help()
      .wrap(helpWidth(args, io.columns))
      .exitProcess(io.exitProcess ?? true)
      .fail((msg, err) => {
        // yargs' own parse errors (YError, e.g. "Not enough arguments following: w") are bad input too.
        if (err && err.name !== 'YError') throw err;
        throw new UsageError(msg ?? err?.message ?? 'bad arguments');
      });
    // Each module is typed in its own file; yargs takes them as one heterogeneous list.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-argument
    for (const c of await loadCommands(args)) cli = cli.command(c);
    await cli.parseAsync();
    return 0;
  } catch (err: unknown) {
    if (err instanceof UsageError) {
      io.stderr.write(`isreshape: ${await withSuggestion(err.message, args)}\n`);
      return 2;
    }
    // An environment that returned bad values (envs/check.ts): one line saying which, what and what to do; its
    // stack (the framework's checks, not the env's code) is no help.
    const envErr = asEnvRuntimeError(err);
    if (envErr !== null) {
      io.stderr.write(`isreshape: ${await envRuntimeLine(envErr.envId, envErr.message)}\n`);
      return 1;
    }
    // A fault the error names fully (an environment that hung: envs/watchdog.ts) is one line, no stack.
    const fault = err instanceof Error && (err as { fault?: unknown }).fault === true;
    const msg = err instanceof Error ? (fault ? err.message : (err.stack ?? err.message)) : String(err);
    io.stderr.write(`isreshape: ${msg}\n`);
    return 1;
  }
}

/**
 * The line for an environment that broke its contract at run time: the message (`env 'ID':
 * step returned ...`), where the env comes from, and what to do.
 */
export async function envRuntimeLine(envId: string, message: string): Promise<string> {
  let from = '';
  try {
    // Loaded only here: the commands that step envs have it loaded (with the env's module) already.
    const { envRegistry } = await import('../envs/registry.js');
    const src = envRegistry.sourceOf(envId);
    from = src === 'built-in' ? ' (built-in)' : ` (env module ${src})`;
  } catch {
    // not registered in this thread (a message from elsewhere): no source to name
  }
  return `${message}. The environment${from} broke its contract: fix its create()/reset()/step() (README, "Your own environment", says what they must return)`;
}
