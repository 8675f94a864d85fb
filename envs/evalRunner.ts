/**
 * One policy evaluation (`evaluatePolicy`) in a worker thread of its own, under the env
 * watchdog (envs/watchdog.ts): for a process whose main thread must not be taken hostage by an
 * environment, e.g. `isreshape eval`. A reset() or step() (or the module's import, create())
 * that does not return within `timeoutMs` stops the thread and rejects with an EnvTimeoutError
 * naming the env, the call and the time; an environment that returned bad values rejects with
 * an EnvRuntimeError; any other error with its message and the thread's stack.
 */
import { Worker } from 'node:worker_threads';
import { workerFile } from '../infra/workerFile.js';
import { EnvRuntimeError } from './check.js';
import type { EvaluateOptions } from './evaluate.js';
import { EnvTimeoutError, EnvWatchdog, envHangMessage, newEnvBeacon, type EnvHang } from './watchdog.js';

/** What the thread is given. */
export interface EvalRunnerTask {
  options: EvaluateOptions;
  /** A user env module (path) defining options.envId, loaded in the thread first. */
  envModule: string | null;
  beacon: SharedArrayBuffer;
}

/** What the thread answers. */
export type EvalRunnerReply =
  { ok: { meanReturn: number; returns: number[]; steps: number } } | { error: { message: string; stack: string; envId: string | null } };

export interface EvalRunnerOptions {
  /** A user env module defining the env, loaded in the thread. */
  envModule: string | null;
  /** An env call running longer stops the thread (ms). */
  timeoutMs: number;
  /** Who runs it, in the hang message (`in ${where}`). */
  where: string;
  /** Where the environment's console output goes (default: this process's stdout and stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Run `evaluatePolicy(options)` in a new watched thread. */
export async function evaluateInThread(
  options: EvaluateOptions,
  o: EvalRunnerOptions,
): Promise<{ meanReturn: number; returns: number[]; steps: number }> {
  const beacon = newEnvBeacon();
  const task: EvalRunnerTask = { options, envModule: o.envModule, beacon };
  const w = new Worker(workerFile('envs', 'evalRunnerThread'), { workerData: task, stdout: true, stderr: true });
  w.stdout.pipe(o.stdout ?? process.stdout, { end: false });
  w.stderr.pipe(o.stderr ?? process.stderr, { end: false });
  let hang: EnvHang | null = null;
  const dog = new EnvWatchdog(beacon, o.timeoutMs, (h) => {
    hang = h;
    void w.terminate();
  });
  try {
    const reply = await new Promise<EvalRunnerReply>((resolve, reject) => {
      w.once('message', (m: EvalRunnerReply) => resolve(m));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the evaluation thread exited (code ${code}) before it answered`)));
    });
    if ('ok' in reply) return reply.ok;
    const { message, stack, envId } = reply.error;
    if (envId !== null) throw new EnvRuntimeError(envId, message);
    const e = new Error(message);
    e.stack = stack;
    throw e;
  } catch (e) {
    if (hang !== null) throw new EnvTimeoutError(envHangMessage(options.envId, hang, o.where));
    throw e;
  } finally {
    dog.stop();
    await w.terminate();
  }
}
