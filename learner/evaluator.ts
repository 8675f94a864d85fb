/**
 * Evaluation of the current policy in a worker thread (never lagged): one pinned worker
 * (infra/pinnedWorker.ts, the primitive the gradient shards use too) running
 * envs/evalWorker.ts's episodes. The learner passes parameters in and gets an EvalStat;
 * evaluations asked for while one runs wait their turn, in order.
 */
import type { ModelSpec } from '../model/spec.js';
import type { EvalStat } from '../protocol/records.js';
import type { EvalTask } from '../envs/evalWorker.js';
import { workerFile } from '../infra/workerFile.js';
import { PinnedWorker } from '../infra/pinnedWorker.js';

export class Evaluator {
  private readonly worker = new PinnedWorker(workerFile('learner', 'evalThread'), null, { name: 'evaluator' });
  /** The last evaluation queued (settled or not): the next one starts after it. */
  private tail: Promise<unknown> = Promise.resolve();

  /** `envModule`: a user env module (path) defining envId, loaded in the worker thread. */
  constructor(
    private readonly envId: string,
    private readonly spec: ModelSpec,
    private readonly seed: number,
    private readonly envModule: string | null = null,
  ) {}

  /** Evaluate `params` of `version` over `episodes` episodes, sampling and greedy. Seeds depend only on (seed, version). */
  run(params: Float32Array, version: number, episodes: number): Promise<EvalStat> {
    const seed = (this.seed * 7919 + version * 104729 + 17) >>> 0;
    const task: EvalTask = { envId: this.envId, envModule: this.envModule, modelSpec: this.spec, params, episodes, seed, version };
    const p = this.tail.then(
      () => this.worker.call(0, task) as Promise<EvalStat>,
      () => this.worker.call(0, task) as Promise<EvalStat>,
    );
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Stop the thread; an evaluation still running rejects (as piscina's destroy did). */
  async close(): Promise<void> {
    await this.worker.close();
  }
}
