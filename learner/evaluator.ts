/**
 * Evaluation of the current policy in a worker thread (never lagged): a piscina pool of one
 * thread running envs/evalWorker.js. The learner passes parameters in and gets an EvalStat.
 */
import { Piscina } from 'piscina';
import type { ModelSpec } from '../model/spec.js';
import type { EvalStat } from '../protocol/records.js';
import { workerFile } from '../infra/workerFile.js';

export class Evaluator {
  private readonly pool = new Piscina({ filename: workerFile('envs', 'evalWorker'), minThreads: 1, maxThreads: 1, idleTimeout: Infinity });

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
    return this.pool.run({
      envId: this.envId,
      envModule: this.envModule,
      modelSpec: this.spec,
      params,
      episodes,
      seed,
      version,
    }) as Promise<EvalStat>;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
