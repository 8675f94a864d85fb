/**
 * `--env-module FILE`: a user's environment module is loaded into this process's env registry
 * before the run settings are validated (so `--env` may name one of its envs). The path comes
 * from the flag, else from the `--config` file, else (with --join or --resume) from the run's
 * config.json. Worker threads load it themselves (actor/worker.ts, envs/evalWorker.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_ENV_TIMEOUT_SEC } from '../envs/watchdog.js';
import { loadEnvModule } from '../envs/registry.js';
import { EnvModuleError } from '../envs/check.js';
import { loadConfigFile } from './runConfig.js';
import { UsageError } from './errors.js';

/** The env module a command's flags and config file name, or null. */
export function envModuleOf(argv: Record<string, unknown>): string | null {
  const flag = argv['env-module'];
  if (typeof flag === 'string') return flag;
  let file = argv.config as string | undefined;
  if (file === undefined && argv.join === true && typeof argv['run-dir'] === 'string') file = path.join(argv['run-dir'], 'config.json');
  if (file === undefined && typeof argv.resume === 'string') file = path.join(argv.resume, 'config.json'); // --resume RUN_DIR
  if (file === undefined || !existsSync(file)) return null; // a missing --config file is reported by the config loader
  const v = loadConfigFile(file).values['env-module'];
  return typeof v === 'string' ? v : null;
}

/**
 * Load the env module named by `argv` (if any) into this process's registry; returns its path
 * or null. A module that cannot be loaded is a UsageError: `--env-module: env module PATH: ...`.
 */
export async function loadEnvModuleOf(argv: Record<string, unknown>): Promise<string | null> {
  const file = envModuleOf(argv);
  if (file === null) return null;
  checkNotTypeScript(file);
  const t = Number(argv['env-timeout'] ?? DEFAULT_ENV_TIMEOUT_SEC);
  await probeImport(file, Number.isFinite(t) && t > 0 ? t : DEFAULT_ENV_TIMEOUT_SEC);
  try {
    await loadEnvModule(file);
  } catch (e) {
    if (e instanceof EnvModuleError) throw new UsageError(`--env-module: ${e.message}`);
    throw e;
  }
  return file;
}

/**
 * Load env module `file` (a path a run's config holds) into this process's registry, after the
 * same trial import in a throwaway worker as `--env-module` gets: a module whose import hangs is
 * a UsageError naming it and `timeoutSec`, not a command that never returns (`eval`, `export`).
 */
export async function loadEnvModuleWatched(file: string, timeoutSec: number): Promise<void> {
  await probeImport(file, timeoutSec, "the run's env module");
  try {
    await loadEnvModule(file);
  } catch (e) {
    if (e instanceof EnvModuleError) throw new UsageError(`the run's env module: ${e.message}`);
    throw e;
  }
}

/**
 * Import `file` once in a throwaway worker thread first: a module whose import never finishes
 * (a loop at its top level, an await that never settles) would hang this thread beyond any
 * timer's reach. One that has not finished within `timeoutSec` is a UsageError naming it, the
 * call and the time; one that fails is left to the real import, which says why.
 */
async function probeImport(file: string, timeoutSec: number, what = '--env-module'): Promise<void> {
  const url = pathToFileURL(path.resolve(file)).href;
  const w = new Worker(`import(${JSON.stringify(url)}).then(() => process.exit(0), () => process.exit(0));`, {
    eval: true,
    stdout: true,
    stderr: true,
  });
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    new Promise<boolean>((resolve) => {
      w.once('exit', () => resolve(true));
      w.once('error', () => resolve(true));
    }),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutSec * 1000))),
  ]);
  clearTimeout(timer);
  if (!done) {
    await w.terminate();
    throw new UsageError(
      `${what}: importing ${file} did not finish within ${timeoutSec} s (--env-timeout): the module's top-level code hangs`,
    );
  }
}

/**
 * Node 20 does not load TypeScript, and its own error ("Unknown file extension .ts") names no
 * remedy: a `.ts` / `.mts` / `.cts` module is refused with the command that compiles it to the
 * `.js` / `.mjs` / `.cjs` file next to it.
 */
export function checkNotTypeScript(file: string): void {
  const m = /\.(m|c)?ts$/.exec(file);
  if (!m) return;
  const out = file.slice(0, -m[0].length) + `.${m[1] ?? ''}js`;
  const dir = path.dirname(file);
  throw new UsageError(
    `--env-module: ${file} is TypeScript, which Node ${process.versions.node.split('.')[0]} does not load; compile it first with ` +
      `'npx -p typescript tsc --target es2022 --module nodenext --outDir ${dir} ${file}' and pass --env-module ${out}`,
  );
}
