/**
 * Running the built CLI from tests. `npm test` builds first; when dist/ is missing (a single
 * test run by hand), it is built once here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { logExists, logLinesSync } from '../../analysis/logFiles.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/deploy/cli.js');

/** Build dist/ if it is missing. */
export function ensureBuilt(): void {
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist/actor/worker.js'))) {
    spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, encoding: 'utf8' });
  }
  if (!existsSync(CLI)) throw new Error('dist/deploy/cli.js missing after build; run npm run build');
}

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Run the CLI to completion (bounded by `timeoutMs`). */
export function runCli(args: string[], timeoutMs = 240_000): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolvePromise({ code, out, err });
    });
  });
}

/** Parse an NDJSON log's records of `kind`: its rotated segments (gunzipped) in order, then the file itself. */
export function recordsOf<T = Record<string, unknown>>(file: string, kind: string): T[] {
  if (!logExists(file)) throw new Error(`${file}: no such log (nor any rotated segment of it)`);
  return [...logLinesSync(file)].filter((l) => l.includes(`"kind":"${kind}"`)).map((l) => JSON.parse(l) as T);
}
