/**
 * The learner's trainer thread (learner/trainer.ts, infra/pinnedWorker.ts): holds the Learner
 * (parameters, optimiser, learner threads) and runs its updates, so that the process's main
 * thread keeps receiving, decoding, verifying and answering while an update runs.
 */
import { servePinned } from '../infra/pinnedWorker.js';
import { Learner, type LearnerState } from './learner.js';
import { TrainerOp, type TrainerInit, type TrainerUpdate, type UpdateReply } from './trainer.js';

await servePinned((data) => {
  const init = data as TrainerInit;
  const learner = new Learner(init.spec, init.cfg, init.params, init.seed);
  let msg: unknown = null;
  const take = <T>(): T => {
    if (msg === null) throw new Error('trainer: request without its data');
    const m = msg as T;
    msg = null;
    return m;
  };
  return {
    message: (m) => {
      msg = m;
    },
    run: async (op) => {
      switch (op) {
        case TrainerOp.Update: {
          const u = take<TrainerUpdate>();
          const stats = await learner.update(u.segs, u.envSteps);
          return { stats, version: learner.version, params: learner.paramsArray() } satisfies UpdateReply;
        }
        case TrainerOp.Export:
          return learner.exportState();
        case TrainerOp.Import:
          learner.importState(take<LearnerState>());
          return learner.paramsArray();
        case TrainerOp.SetVersion:
          learner.version = take<{ version: number }>().version;
          return undefined;
        case TrainerOp.Dispose:
          await learner.dispose();
          return undefined;
        default:
          throw new Error(`trainer: unknown op ${op}`);
      }
    },
  };
});
