/**
 * Config files and run directories. `--config FILE` (YAML or JSON) holds settings keyed by long
 * flag names (`method: v5`, `lag: fixed:4`), or is a saved `runs/<id>/config.json`; either way it
 * sits between the preset and the flags. A run directory is created by the process that starts
 * the run and must not exist yet; the only processes that write into an existing one are those
 * started with `--join` (what `train` passes to its learner and actors), which take the run's
 * config.json as it is.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Options } from 'yargs';
import type { RunConfig } from './config.js';
import { buildConfig, flagsGiven, savedToFlags, type FlagValues } from './options.js';
import { UsageError } from './errors.js';

/** The options every config-reading command adds: --config and --join. */
export function configFileOptions(): Record<string, Options> {
  return {
    config: {
      type: 'string',
      nargs: 1,
      describe:
        'settings from a YAML or JSON file keyed by long flag names, or a saved runs/<id>/config.json (flags override it; it overrides --preset)',
    },
    join: {
      type: 'boolean',
      describe:
        'join an existing run directory (--run-dir DIR, or the directory of --config DIR/config.json) and use its config.json as is; train passes it to the processes it starts',
    },
  };
}

/** Read `--config FILE`: settings keyed by long flag names (saved config.json files are converted). */
export function loadConfigFile(file: string): FlagValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--config: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new UsageError(`--config: '${file}' is neither YAML nor JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return { values: {}, file };
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`--config: '${file}' must hold a mapping of flag names to values, e.g. 'method: v5'`);
  const rec = doc as Record<string, unknown>;
  const saved = 'runId' in rec || (typeof rec.objective === 'object' && rec.objective !== null);
  return { values: saved ? savedToFlags(rec, file) : rec, file };
}

/** Create `cfg.runDir` (refusing one that exists) and write its config.json; returns the file's path. */
export function writeRunConfig(cfg: RunConfig): string {
  const cannot = (e: unknown): UsageError => {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a part of the path is a file'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'not writable here'
          : code === 'ENOENT'
            ? 'a parent cannot be created'
            : code;
    return new UsageError(`--run-dir: cannot create '${cfg.runDir}' (${why}: ${code}); pick a writable directory`);
  };
  try {
    mkdirSync(path.dirname(cfg.runDir), { recursive: true });
  } catch (e) {
    throw cannot(e);
  }
  try {
    mkdirSync(cfg.runDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(
        `--run-dir: ${cfg.runDir} already exists; a new run never writes into an existing run directory: pick another --run-dir or remove it`,
      );
    }
    throw cannot(e);
  }
  const file = path.join(cfg.runDir, 'config.json');
  try {
    writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
  } catch (e) {
    throw cannot(e);
  }
  return file;
}

/** The config of a run being joined: `<dir>/config.json` as saved, with its run id and directory. */
export function joinConfig(argv: Record<string, unknown>): RunConfig {
  const flags = Object.keys(flagsGiven(argv)).filter((f) => f !== 'run-dir');
  if (flags.length > 0)
    throw new UsageError(`--join: --${flags[0]} cannot be combined with --join; a joined run uses its config.json as is`);
  const cfgFile = argv.config as string | undefined;
  const runDirFlag = argv['run-dir'] as string | undefined;
  if (!cfgFile && !runDirFlag) throw new UsageError('--join: name the run to join with --run-dir DIR or --config DIR/config.json');
  const dir = path.resolve(runDirFlag ?? path.dirname(cfgFile!));
  const file = path.join(dir, 'config.json');
  if (cfgFile && path.resolve(cfgFile) !== file) {
    throw new UsageError(`--join: --config ${cfgFile} is not the config.json of the run directory ${dir}; give one of them`);
  }
  if (!existsSync(file))
    throw new UsageError(`--join: ${dir} holds no config.json; start the run first (train, or learner without --join)`);
  const { values } = loadConfigFile(file);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { runId?: unknown };
  const runId = typeof saved.runId === 'string' ? saved.runId : path.basename(dir);
  return buildConfig({}, { file: { values: { ...values, 'run-id': runId, 'run-dir': dir }, file } });
}

/**
 * The config of a command: with --join, the joined run's; else flags over --config FILE over
 * the preset over defaults, for a new run directory (`runDirSuffix` names a default one apart,
 * e.g. '-actor1'). The caller creates the directory with `writeRunConfig` unless joining.
 */
export function configFromArgs(argv: Record<string, unknown>, o: { runDirSuffix?: string } = {}): RunConfig {
  if (argv.join === true) return joinConfig(argv);
  const file = argv.config as string | undefined;
  return buildConfig(argv, { file: file === undefined ? undefined : loadConfigFile(file), runDirSuffix: o.runDirSuffix });
}
