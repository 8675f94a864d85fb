/**
 * Running the built CLI from tests. `npm test` builds first; when dist/ is missing (a single
 * test run by hand), it is built once here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { logExists, logLinesSync } from '../../protocol/logFiles.js';

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

/** One flag's value for {@link smallRunArgs}: `true` for a bare flag; `null`, `undefined` or `false` leave it out. */
export type FlagValue = string | number | boolean | null | undefined;

/** The flags every tiny CartPole run in the integration tests shares, in their argv order. */
const SMALL_RUN: Record<string, FlagValue> = {
  actors: 1,
  'envs-per-worker': 2,
  'segment-steps': 16,
  epochs: 1,
  minibatches: 1,
  'eval-every': 0,
  'final-eval-episodes': 3,
};

/**
 * The argv flags of a tiny CartPole run: 1 actor, 2 envs, 16-step segments, 1 epoch of 1
 * minibatch, no periodic eval, 3 final-eval episodes. `over` is keyed by flag name without
 * `--`: a value replaces a default in place, a new flag is appended in `over`'s order, `true`
 * gives a bare flag (`quiet: true` -> `--quiet`), and `null`, `undefined` or `false` drop it.
 * Values are stringified.
 */
export function smallRunArgs(over: Record<string, FlagValue> = {}): string[] {
  const argv: string[] = [];
  for (const [flag, value] of Object.entries({ ...SMALL_RUN, ...over })) {
    if (value === null || value === undefined || value === false) continue;
    argv.push(`--${flag}`);
    if (value !== true) argv.push(String(value));
  }
  return argv;
}

/** Resolve once `f()` is true, polling every 100 ms; throw naming `what` after `tries` polls. */
export async function until(f: () => boolean, what: string, tries = 3000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Update records in one learner-to-launcher IPC message (protocol/ipc.ts: 'update' carries one, 'updates' a batch). */
export function updatesIn(m: { type: string; records?: unknown[] }): number {
  return m.type === 'update' ? 1 : m.type === 'updates' ? (m.records?.length ?? 0) : 0;
}

/** `train ARGS` as a child process (killed after 400 s at the latest); `out()` is its stdout and stderr so far. */
export function startTrain(args: string[]): {
  pid: number;
  kill: (s: NodeJS.Signals) => void;
  out: () => string;
  exit: Promise<number | null>;
} {
  const p = spawn(process.execPath, [CLI, 'train', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const t = setTimeout(() => p.kill('SIGKILL'), 400_000);
  const exit = new Promise<number | null>((r) =>
    p.on('exit', (code) => {
      clearTimeout(t);
      r(code);
    }),
  );
  return { pid: p.pid!, kill: (s) => p.kill(s), out: () => out, exit };
}
