/**
 * The evaluator's pinned worker thread (learner/evaluator.ts, infra/pinnedWorker.ts): each
 * request carries one evaluation task (envs/evalWorker.ts) and answers with its EvalStat. An
 * environment that misbehaved (EnvRuntimeError) answers `{ envError }` instead of throwing: a
 * thrown error crosses back as its message alone, and the evaluator must know the env is to
 * blame (learner/evalScheduler.ts stops the run on it).
 */
import { servePinned } from '../infra/pinnedWorker.js';
import evaluate, { type EvalTask } from '../envs/evalWorker.js';
import { EnvRuntimeError } from '../envs/check.js';

/** The answer when the environment misbehaved. */
export interface EnvErrorReply {
  envError: { envId: string; message: string };
}

await servePinned(() => {
  let task: EvalTask | null = null;
  return {
    message: (m) => {
      task = m as EvalTask;
    },
    run: async () => {
      if (task === null) throw new Error('evaluation request without a task');
      const t = task;
      task = null;
      try {
        return await evaluate(t);
      } catch (e) {
        if (e instanceof EnvRuntimeError) return { envError: { envId: e.envId, message: e.message } } satisfies EnvErrorReply;
        throw e;
      }
    },
  };
});
