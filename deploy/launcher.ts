/**
 * The local launcher behind `isreshape train`: creates the run directory (refusing one that
 * exists) and its config.json, starts the learner and N actor processes over a private ipc:// socket (privateEndpoint) with
 * `--config <run>/config.json --join` (the one way to write into an existing run directory),
 * shows progress, stops them cleanly on SIGINT/SIGTERM or at the budget, reports any child that
 * dies (exit code and stderr), and leaves the run directory complete.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { appendFileSync, chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { constFloorNotice, coresNotice, type RunConfig } from './config.js';
import { formatLag } from '../protocol/lag.js';
import type { EvalStat, SummaryRecord, UpdateRecord } from '../protocol/records.js';
import { learnerMessage } from '../protocol/ipc.js';
import { writeRunConfig } from './runConfig.js';
import { createLogger } from './logging.js';
import { formatProgress, formatProgressTty, formatSummary } from './progress.js';

export interface LaunchOptions {
  /** No progress lines (sweeps, tests); the final summary is still printed. */
  quiet: boolean;
  out: NodeJS.WritableStream;
  /** `--tensorboard DIR` for the learner: it writes TensorBoard event files there while training. */
  tensorboard?: string;
  /** Starts one child with CLI arguments (default: fork this CLI with an IPC channel). Tests pass fakes. */
  spawn?: SpawnCli;
  /** Cores the run shares (default os.availableParallelism()): for the start-up note when its threads outnumber them. */
  cores?: number;
  /** How long actors get to exit after SIGTERM before SIGKILL (default 5000 ms). */
  killGraceMs?: number;
  /**
   * How long the learner gets, once asked to stop (signal, abort, or its --time budget passed),
   * to finish (current update, final checkpoint, final evaluation, summary) before it is killed
   * (default STOP_BOUND_MS). A second Ctrl-C kills at once.
   */
  stopBoundMs?: number;
  /** Continue the run in cfg.runDir from its newest checkpoint (`train --resume`). */
  resume?: boolean;
  /** Called with every update record the learner reports (the library's train({ onUpdate })). */
  onUpdate?: (record: UpdateRecord) => void;
  /** Aborting stops the run as SIGINT does: after the current update, with the final evaluation. */
  signal?: AbortSignal;
}

/** Restarts of one actor process before the run is stopped instead (--restart-actors). */
export const MAX_ACTOR_RESTARTS = 10;

/**
 * The learner's time to stop once asked, before SIGKILL. Project choice: its final evaluation
 * (100 CartPole episodes of 500 steps: ~5 s on a loaded 2-core machine) and checkpoint fit many
 * times over, and an environment that hangs in it is stopped by the evaluator's watchdog
 * (ENV_CALL_TIMEOUT_MS) before this.
 */
export const STOP_BOUND_MS = 120_000;

/** Start `isreshape <args>` as a child process with stdout, stderr piped and an IPC channel. */
export type SpawnCli = (args: string[]) => ChildProcess;

interface Child {
  name: string;
  proc: ChildProcess;
  stderrTail: string[];
  exited: boolean;
}

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

const forkCli: SpawnCli = (args) => fork(CLI, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });

/**
 * Start a child. With `forward`, each line it writes (stdout and stderr: what an environment
 * module's console.log / console.error prints in the actor's worker threads) is passed on,
 * whole lines only, for the caller to print with the actor's id.
 */
function spawnChild(spawn: SpawnCli, name: string, args: string[], forward?: (line: string) => void): Child {
  const proc = spawn(args);
  const child: Child = { name, proc, stderrTail: [], exited: false };
  const lines = (each: (l: string) => void) => {
    let rest = '';
    return (d: string) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop()!;
      for (const l of parts) if (l.length > 0) each(l);
    };
  };
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    child.stderrTail.push(...d.split('\n').filter((l) => l.length > 0));
    if (child.stderrTail.length > 20) child.stderrTail.splice(0, child.stderrTail.length - 20);
  });
  if (forward) {
    proc.stderr?.on('data', lines(forward));
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', lines(forward));
  } else proc.stdout?.resume();
  return child;
}

/** The private endpoint directories' prefix, and the file in each that names its launcher's pid. */
const PRIVATE_PREFIX = 'isreshape-';
export const OWNER_FILE = 'owner.pid';

/** Where the private directories are made: a unix socket path holds at most 107 bytes, so a long TMPDIR falls back to /tmp. */
export function privateBase(): string {
  return tmpdir().length > 60 ? '/tmp' : tmpdir();
}

/**
 * The run's private endpoint: an ipc:// socket in a new directory of mode 0700 (owned by this
 * user), so that no other user's process can connect to the learner, nor bind the address to
 * pose as it after the learner exits (README, Security). Returns the endpoint and the directory.
 * The directory holds `owner.pid` (this process's pid, then the learner's, one a line): the
 * launcher removes it when the run ends, and a launcher killed before that (SIGKILL) leaves it
 * for a later one to remove once those processes are gone (`removeStalePrivateDirs`, called
 * first here; `removed` lists what it removed).
 */
export function privateEndpoint(): { endpoint: string; dir: string; removed: string[] } {
  const base = privateBase();
  const removed = removeStalePrivateDirs(base);
  const dir = mkdtempSync(path.join(base, PRIVATE_PREFIX));
  chmodSync(dir, 0o700);
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0 || (process.getuid !== undefined && st.uid !== process.getuid()))
    throw new Error(
      `${dir}: not a private directory (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}); refusing to run the learner there`,
    );
  writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`, { mode: 0o600 });
  return { endpoint: `ipc://${path.join(dir, 'learner.sock')}`, dir, removed };
}

/** Whether process `pid` exists (EPERM: it does, another user's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the private endpoint directories in `base` left by launchers that died without
 * cleaning up (SIGKILL): only real directories (not links) named `isreshape-*`, owned by this
 * user, of mode 0700, whose `owner.pid` names processes none of which exists any more (the
 * launcher, and the learner still serving the socket until it has stopped). A directory without
 * that file (being made right now, or from an older version) is left alone, as is anything that
 * cannot be read. Returns the directories removed.
 */
export function removeStalePrivateDirs(base: string = privateBase()): string[] {
  const uid = process.getuid?.();
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(PRIVATE_PREFIX)) continue;
    const dir = path.join(base, name);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory() || (st.mode & 0o777) !== 0o700 || (uid !== undefined && st.uid !== uid)) continue;
      const owner = path.join(dir, OWNER_FILE);
      const ost = lstatSync(owner);
      if (!ost.isFile() || (uid !== undefined && ost.uid !== uid)) continue;
      const pids = readFileSync(owner, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number);
      if (pids.length === 0 || pids.some((p) => !Number.isInteger(p) || p <= 0 || pidAlive(p))) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, no owner file, not ours to read: left alone
    }
  }
  return removed;
}

function waitExit(c: Child): Promise<number | null> {
  if (c.exited) return Promise.resolve(c.proc.exitCode);
  return new Promise((resolve) => c.proc.once('exit', (code) => resolve(code)));
}

/** Run a training job; resolves to the process exit code (0 = finished, 1 = a child failed). */
export async function launchTraining(cfg: RunConfig, opts: LaunchOptions): Promise<number> {
  const cfgFile = opts.resume ? path.join(cfg.runDir, 'config.json') : writeRunConfig(cfg);
  const log: Logger = createLogger(path.join(cfg.runDir, 'launcher.ndjson'), { role: 'launcher', backend: cfg.backend, runId: cfg.runId });
  const tty = !opts.quiet && (opts.out as NodeJS.WriteStream).isTTY === true;
  const started = Date.now();
  const say = (s: string) => opts.out.write(s + '\n');
  say(
    `isreshape train: ${cfg.env}, method ${cfg.label}, lag ${formatLag(cfg.lag)}, seed ${cfg.seed}, ${cfg.actors} actors x ${cfg.workers} workers x ${cfg.envsPerWorker} envs${cfg.deterministic ? ', deterministic' : ''}`,
  );
  for (const notice of [constFloorNotice(cfg.objective), coresNotice(cfg, opts.cores ?? availableParallelism())]) if (notice) say(notice);
  say(`run directory: ${cfg.runDir}`);
  if (!opts.quiet) say(`resolved config (also in config.json): ${JSON.stringify(cfg)}`);

  const spawn = opts.spawn ?? forkCli;
  if (opts.resume) say('resuming from the newest checkpoint');
  const runArgs = opts.resume ? ['--resume', cfg.runDir] : ['--config', cfgFile, '--join'];
  // Learner and actors talk over an ipc:// socket only this user can open (privateEndpoint).
  const priv = privateEndpoint();
  if (priv.removed.length > 0)
    log.info(
      { kind: 'stale-ipc-removed', dirs: priv.removed },
      'removed private socket folders of launchers that died (SIGKILL) before removing them',
    );
  // What the learner prints (one line about a full disk, an unwritten summary) is shown as it comes.
  const learner = spawnChild(
    spawn,
    'learner',
    ['learner', ...runArgs, '--bind', priv.endpoint, ...(opts.tensorboard !== undefined ? ['--tensorboard', opts.tensorboard] : [])],
    (line) => opts.out.write(`${tty ? '\r\x1b[2K' : ''}[learner] ${line}\n`),
  );
  // The learner serves the socket until it has stopped: the folder is stale only once it is gone too.
  if (learner.proc.pid !== undefined) appendFileSync(path.join(priv.dir, OWNER_FILE), `${learner.proc.pid}\n`);
  const actors: Child[] = [];
  let failure: string | null = null;
  let summary: SummaryRecord | null = null;
  let summaryUnwritten: string | undefined;
  let lastLine = 0;
  let lastEval: EvalStat | undefined;
  let stopping = false;

  // Once the learner is asked to stop (or began to by itself), it has stopBoundMs to exit.
  let boundTimer: NodeJS.Timeout | undefined;
  const bound = () => {
    boundTimer ??= setTimeout(() => {
      if (learner.exited) return;
      const s = (opts.stopBoundMs ?? STOP_BOUND_MS) / 1000;
      say(`isreshape train: the learner did not stop within ${s} s of being asked to; killing it (its final checkpoint may be missing)`);
      log.error({ kind: 'learner-killed', afterSeconds: s });
      failure ??= `the learner did not stop within ${s} s and was killed`;
      learner.proc.kill('SIGKILL');
    }, opts.stopBoundMs ?? STOP_BOUND_MS);
  };
  const stopAll = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ kind: 'stopping', why });
    if (!learner.exited) learner.proc.kill('SIGTERM');
    bound();
  };
  // A second signal a second or more after the first (a person pressing Ctrl-C again) kills at
  // once; one within the second is the same request delivered twice (the terminal, a supervisor).
  let firstSignal = -1;
  const onSignal = (sig: NodeJS.Signals) => {
    if (firstSignal < 0) firstSignal = Date.now();
    else if (Date.now() - firstSignal < 1000) return;
    else {
      say(`\n${sig} again: stopping now (the learner keeps its last checkpoint)`);
      failure ??= `stopped by a second ${sig}`;
      if (!learner.exited) learner.proc.kill('SIGKILL');
      for (const a of actors) if (!a.exited) a.proc.kill('SIGKILL');
      return;
    }
    say(`\n${sig}: stopping after the current update (final evaluation follows); ${sig} again stops at once`);
    stopAll(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onAbort = () => stopAll('aborted');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const restarts = new Map<number, number>();
  let endpoint = '';
  const startActor = (i: number, again: boolean): Child => {
    // A restarted actor joins with --resume: its log continues.
    const a = spawnChild(
      spawn,
      `actor ${i}`,
      ['actor', ...(again ? ['--resume', cfg.runDir] : runArgs), '--connect', endpoint, '--actor-id', String(i)],
      (line) => opts.out.write(`${tty ? '\r\x1b[2K' : ''}[actor ${i}] ${line}\n`),
    );
    actors[i] = a;
    watch(a, i);
    return a;
  };
  const watch = (c: Child, actorIndex = -1) => {
    c.proc.on('exit', (code, signal) => {
      c.exited = true;
      // A learner that sent its summary exited as it meant to (its code says whether its files are complete).
      const expected = c === learner ? summary !== null : stopping || summary !== null;
      const n = restarts.get(actorIndex) ?? 0;
      if (!expected && actorIndex >= 0 && cfg.restartActors && n < MAX_ACTOR_RESTARTS) {
        restarts.set(actorIndex, n + 1);
        log.warn({ kind: 'actor-restarted', child: c.name, code, signal, restart: n + 1, stderr: c.stderrTail });
        if (!opts.quiet)
          say(
            `${c.name} exited with code ${code}${signal ? ` (signal ${signal})` : ''}: restarting it (${n + 1} of at most ${MAX_ACTOR_RESTARTS})`,
          );
        startActor(actorIndex, true);
        return;
      }
      if (!expected && !failure) {
        failure = `${c.name} exited with code ${code}${signal ? ` (signal ${signal})` : ''}; its stderr:\n  ${c.stderrTail.join('\n  ') || '(empty)'}`;
        log.error({ kind: 'child-died', child: c.name, code, signal, stderr: c.stderrTail });
        stopAll(`${c.name} died`);
      }
    });
  };
  watch(learner);

  const onRecord = (r: UpdateRecord): void => {
    const now = Date.now();
    if (r.eval) lastEval = r.eval;
    opts.onUpdate?.(r);
    if (tty)
      opts.out.write(
        `\r\x1b[2K${formatProgressTty(r, cfg.steps, lastEval, { elapsedMs: now - started, columns: (opts.out as NodeJS.WriteStream).columns ?? 80 })}`,
      );
    else if (!opts.quiet && now - lastLine >= 5000) {
      lastLine = now;
      say(formatProgress(r, cfg.steps, lastEval));
    }
  };
  const ready = await new Promise<{ endpoint: string; backend: string } | null>((resolve) => {
    learner.proc.on('message', (raw: unknown) => {
      const m = learnerMessage(raw);
      if (!m) {
        log.warn({ kind: 'bad-ipc', message: String(JSON.stringify(raw)).slice(0, 200) }, 'unexpected message from the learner process');
        return;
      }
      switch (m.type) {
        case 'ready':
          resolve({ endpoint: m.endpoint, backend: m.backend });
          break;
        case 'update':
          onRecord(m.record);
          break;
        case 'updates':
          for (const r of m.records) onRecord(r);
          break;
        case 'summary':
          summary = m.summary;
          summaryUnwritten = m.unwritten;
          break;
        case 'stopping':
          stopping = true;
          bound();
          break;
      }
    });
    learner.proc.once('exit', () => resolve(null));
  });
  // --time is the learner's to keep; this is the backstop for a learner that cannot (its own
  // clock is checked between updates and while it waits for rollouts).
  const timeTimer =
    cfg.timeSec > 0 && ready && !opts.resume
      ? setTimeout(() => stopAll(`time budget ${cfg.timeSec} s passed`), cfg.timeSec * 1000 + 10_000)
      : undefined;
  if (ready) {
    say(`learner on ${ready.endpoint}, tensor backend: ${ready.backend}`);
    log.info({ kind: 'learner-ready', endpoint: ready.endpoint, backend: ready.backend });
    endpoint = ready.endpoint;
    for (let i = 0; i < cfg.actors && !stopping; i++) startActor(i, false);
  }
  const learnerCode = await waitExit(learner);
  clearTimeout(boundTimer);
  clearTimeout(timeTimer);
  stopping = true;
  for (const a of actors) if (!a.exited) a.proc.kill('SIGTERM');
  const killGraceMs = opts.killGraceMs ?? 5000;
  const killTimer = setTimeout(() => {
    for (const a of actors)
      if (!a.exited) {
        log.warn({ kind: 'actor-killed', child: a.name, afterMs: killGraceMs });
        a.proc.kill('SIGKILL');
      }
  }, killGraceMs);
  await Promise.all(actors.map(waitExit));
  clearTimeout(killTimer);
  rmSync(priv.dir, { recursive: true, force: true });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  opts.signal?.removeEventListener('abort', onAbort);
  if (tty) opts.out.write('\n');
  if (failure) {
    say(`isreshape train: ${failure}`);
    return 1;
  }
  if (!summary) {
    say(`isreshape train: the learner exited without a summary; stderr:\n  ${learner.stderrTail.join('\n  ')}`);
    return 1;
  }
  // The learner process wrote summary.json before it sent the summary (deploy/commands/learner.ts), unless the disk refused it.
  const s: SummaryRecord = summary;
  log.info({ kind: 'finished', summary: s });
  // The final attempt for lines held after a failed write (deploy/logging.ts).
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  say(formatSummary(s, cfg.runDir));
  if (opts.tensorboard !== undefined) say(`  TensorBoard event files: ${opts.tensorboard}  (tensorboard --logdir ${opts.tensorboard})`);
  if (summaryUnwritten !== undefined) {
    say(
      `isreshape train: ${path.join(cfg.runDir, 'summary.json')} could not be written (${summaryUnwritten}); the summary: ${JSON.stringify(s)}`,
    );
    return 1;
  }
  if (s.failed === true) {
    // An environment at fault in an evaluation (hung, bad values): its message names the env, the call and the time.
    say(
      `isreshape train: the run failed: ${s.evalError ?? (s.finalEvalError !== undefined ? `the final evaluation failed: ${s.finalEvalError}` : s.stopReason)}`,
    );
    return 1;
  }
  if (learnerCode !== 0) {
    say(`isreshape train: the learner exited with code ${learnerCode}: some of the run's files are incomplete (its lines above say which)`);
    return 1;
  }
  return 0;
}
