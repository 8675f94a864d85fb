/**
 * The evaluator's pinned worker thread (learner/evaluator.ts, infra/pinnedWorker.ts): each
 * request carries one evaluation task (envs/evalWorker.ts) and answers with its EvalStat.
 */
import { servePinned } from '../infra/pinnedWorker.js';
import evaluate, { type EvalTask } from '../envs/evalWorker.js';

await servePinned(() => {
  let task: EvalTask | null = null;
  return {
    message: (m) => {
      task = m as EvalTask;
    },
    run: () => {
      if (task === null) throw new Error('evaluation request without a task');
      const t = task;
      task = null;
      return evaluate(t);
    },
  };
});
