/**
 * The worker thread of envs/evalRunner.ts: loads the env module under the watchdog's marks
 * (prepareEnvThread), runs `evaluatePolicy` once and posts its result, or the error (an
 * EnvRuntimeError keeps its class and env id on the way back).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { evaluatePolicy } from './evaluate.js';
import { prepareEnvThread } from './registry.js';
import { EnvRuntimeError } from './check.js';
import type { EvalRunnerReply, EvalRunnerTask } from './evalRunner.js';

const task = workerData as EvalRunnerTask;
let reply: EvalRunnerReply;
try {
  await prepareEnvThread(task);
  reply = { ok: evaluatePolicy(task.options) };
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  reply = {
    error: {
      message: err.message,
      stack: err.stack ?? err.message,
      envId: e instanceof EnvRuntimeError ? e.envId : null,
    },
  };
}
parentPort!.postMessage(reply);
